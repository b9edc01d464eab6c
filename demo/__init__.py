"""The demo data set: people (:mod:`demo.people`), applications (:mod:`demo.applications`)
and the command that loads them, ``manage.py seed_demo``."""
