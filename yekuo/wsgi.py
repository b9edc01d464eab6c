import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
application = get_wsgi_application()

from scheduling.risk import warm_up  # noqa: E402  (after Django is set up)
from yekuo.fragments import code_stamp  # noqa: E402
from yekuo.heap import freeze_loaded  # noqa: E402

# The forecast's compiled kernel, loaded before the first request needs it; the digest of
# the sources that every cached page fragment's key starts with (15 ms of reading).
warm_up()
code_stamp()
freeze_loaded()
