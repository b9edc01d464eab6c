FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YEKUO_VAR_DIR=/var/lib/yekuo \
    NUMBA_CACHE_DIR=/var/lib/yekuo/numba-cache

WORKDIR /app
# Runtime requirements only: test tools and linters are in requirements-dev.txt.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings but no secrets or services. The risk forecast's kernel is
# compiled into the image (numba's cache, in a folder the service user owns: numba does
# not use a cache it could not write), not at each start.
RUN YEKUO_PROFILE=production SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && python -c "from scheduling.risk import warm_up; warm_up()" \
 && useradd --system --home /var/lib/yekuo yekuo \
 && mkdir -p /var/lib/yekuo/media && chown -R yekuo /var/lib/yekuo
USER yekuo

EXPOSE 8000
# Workers, threads and timeout: gunicorn.conf.py (WEB_WORKERS, WEB_THREADS, WEB_TIMEOUT).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
