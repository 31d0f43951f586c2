# One image for every role of the distributed mode (API, relay, migrations).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
WORKDIR /app
# libmagic reads the type of uploaded documents from their content (python-magic).
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY accelerator ./accelerator
COPY workflows ./workflows
COPY api ./api
COPY cli ./cli
RUN pip install --no-cache-dir .
USER nobody
CMD ["accelerator", "serve", "--host", "0.0.0.0"]
