# Limber's app server: uvicorn serving Django (HTTP) and Channels (the camera socket).
# Built by compose.yaml; the camera check's model files are fetched at build time from the
# mediapipe wheel on the package index and checked by SHA-256 (`limber models`).
FROM python:3.11-slim

# Pango and a font for the printed handouts (WeasyPrint), the packages `make pango` installs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LIMBER_DATA_DIR=/data LIMBER_MODELS_DIR=/opt/limber-models
WORKDIR /app
COPY pyproject.toml README.md ./
COPY limber ./limber
RUN pip install '.[postgres,redis,vision,handout]' \
 && limber models \
 && useradd --system --home-dir /data --create-home limber
USER limber
EXPOSE 8000
# One process per container: scale with more containers (compose runs two).
CMD ["limber", "serve", "--host", "0.0.0.0", "--port", "8000"]
