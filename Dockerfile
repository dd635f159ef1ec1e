# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml ./
COPY gateway ./gateway
COPY adapters ./adapters
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends xmlsec1 curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 gateway
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=gateway:gateway . /app
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps -e /app && mkdir -p /app/var && chown gateway:gateway /app/var
ENV PATH=/opt/venv/bin:$PATH \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8480 \
    PYTHONUNBUFFERED=1
USER gateway
EXPOSE 8480
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8480/healthz || exit 1
CMD ["gateway", "run"]
