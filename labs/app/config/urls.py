from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.health import healthz, readyz
from core.metrics import metrics_view
from core.views import AdminStatsView
from crm.views import LabGraphQLView

urlpatterns = [
    # Probes and scrapes first: they resolve at the first pattern, every few seconds.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.urls")),
    path("api/", include("chats.urls")),
    path("api/", include("listings.urls")),
    path("api/", include("payments.urls")),
    path("api/admin/stats/", AdminStatsView.as_view(), name="admin-stats"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("graphql", csrf_exempt(LabGraphQLView.as_view(graphiql=True))),
]

# JSON for what Django answers itself (unknown paths, bad Host headers, crashes).
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
