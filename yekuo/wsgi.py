import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
application = get_wsgi_application()

from scheduling.risk import warm_up  # noqa: E402  (after Django is set up)
from yekuo.heap import freeze_loaded  # noqa: E402

# The forecast's compiled kernel, loaded before the first request needs it.
warm_up()
freeze_loaded()
