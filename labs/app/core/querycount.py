"""`X-DB-Query-Count` on every response: how many SQL queries the request ran.

Learners (and lesson 2's check) see an N+1 problem from outside: the count grows with the
number of rows listed instead of staying flat. Counted with Django's execute_wrapper, so it
works with DEBUG off and costs one function call per query.
"""

from django.db import connections

HEADER = "X-DB-Query-Count"


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        response[HEADER] = str(count)
        return response
