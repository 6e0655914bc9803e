from django.contrib.admin.apps import AdminConfig


class PlateauAdminConfig(AdminConfig):
    """django.contrib.admin with our site class; kept apart from the site module, which
    imports models and so cannot load while INSTALLED_APPS is being read."""

    default_site = "accounts.admin_site.PlateauAdminSite"
