# One image for web, workers and beat; docker-compose.yml chooses the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GLAMML_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY pyproject.toml README.md ./
COPY glamml ./glamml
COPY catalogue ./catalogue
COPY review ./review
RUN pip install --no-cache-dir ".[deploy]"
COPY . .
# With the manifest storage production reads (settings.STATIC_MANIFEST).
RUN GLAMML_ENV=development GLAMML_STATIC_MANIFEST=true python manage.py collectstatic --no-input \
    && useradd --system --home /app glamml && mkdir -p /data && chown glamml /data
USER glamml
EXPOSE 8000
CMD ["gunicorn", "glamml.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
