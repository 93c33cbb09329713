"""URL lookups of UUID primary keys.

Every viewset keyed by a UUID sets `lookup_value_regex = UUID_PATTERN`: the router then
matches only ids that can be UUIDs, so `/api/conversations/not-a-uuid/messages/` is a 404 at
routing, before any view or queryset sees it (nested routes take the parent's pattern).
"""

# What Django's UUIDField accepts in a path segment: 32 hex digits, dashes optional.
UUID_PATTERN = (r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                r"[0-9a-fA-F]{12}")
