"""What the admin pages of every app share."""


class ReadOnlyAdminMixin:
    """Rows owned by the services and the sweeps: to look at, never to add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
