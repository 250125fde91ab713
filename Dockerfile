# Image shared by the three services (SPEC §1–§2): main_service, api_service
# and background_service all run from this image with a different command.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# System libraries WeasyPrint needs to render invoice and receipt PDFs; tzdata for the company time zone.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        libharfbuzz0b \
        libffi8 \
        fonts-dejavu-core \
        tzdata \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first so code changes do not invalidate this layer.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt gunicorn

COPY . .

# Run as an unprivileged user; instance/ is the only place the app writes
# (file outbox, generated development secret), so it alone belongs to app.
RUN useradd --create-home --uid 1000 --user-group app \
    && mkdir -p /app/instance \
    && chown app:app /app/instance
USER app

EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "main_service:create_app()"]
