"""The plan explorer: a page at ``/ui`` that shows plans as they form (static assets only)."""
