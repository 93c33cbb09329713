import django_filters
from django.db.models import Q

from .models import Customer, Order, Product

LOW_STOCK_BELOW = 10


class CustomerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    email = django_filters.CharFilter(field_name="email", lookup_expr="icontains")
    created_at_gte = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_at_lte = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="lte")
    phone_pattern = django_filters.CharFilter(field_name="phone", lookup_expr="startswith")

    class Meta:
        model = Customer
        fields = ["name", "email", "created_at_gte", "created_at_lte", "phone_pattern"]

    order_by = django_filters.OrderingFilter(fields=("name", "email", "created_at"))


class ProductFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    price_gte = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_lte = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    stock_gte = django_filters.NumberFilter(field_name="stock", lookup_expr="gte")
    stock_lte = django_filters.NumberFilter(field_name="stock", lookup_expr="lte")
    low_stock = django_filters.BooleanFilter(method="filter_low_stock")

    class Meta:
        model = Product
        fields = ["name", "price_gte", "price_lte", "stock_gte", "stock_lte", "low_stock"]

    order_by = django_filters.OrderingFilter(fields=("name", "price", "stock"))

    def filter_low_stock(self, queryset, name, value):
        low = Q(stock__lt=LOW_STOCK_BELOW)
        return queryset.filter(low) if value else queryset.exclude(low)


class OrderFilter(django_filters.FilterSet):
    total_amount_gte = django_filters.NumberFilter(field_name="total_amount", lookup_expr="gte")
    total_amount_lte = django_filters.NumberFilter(field_name="total_amount", lookup_expr="lte")
    order_date_gte = django_filters.DateTimeFilter(field_name="order_date", lookup_expr="gte")
    order_date_lte = django_filters.DateTimeFilter(field_name="order_date", lookup_expr="lte")
    customer_name = django_filters.CharFilter(field_name="customer__name",
                                              lookup_expr="icontains")
    product_name = django_filters.CharFilter(field_name="products__name", lookup_expr="icontains",
                                             distinct=True)

    class Meta:
        model = Order
        fields = ["total_amount_gte", "total_amount_lte", "order_date_gte", "order_date_lte",
                  "customer_name", "product_name"]

    order_by = django_filters.OrderingFilter(fields=("order_date", "total_amount"))
