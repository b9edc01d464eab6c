from django.shortcuts import render

from accounts.roles import Role, roles_of


def home(request):
    """The workspace: what the signed-in person is answerable for."""
    user = request.user
    profile = getattr(user, "account_manager", None)
    context = {
        "roles": roles_of(user),
        "Role": Role,
        "profile": profile,
        "profile_regions": list(profile.regions.all()) if profile else [],
    }
    return render(request, "applications/home.html", context)
