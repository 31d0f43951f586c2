# One image for every role of the distributed mode (API, relay, migrations).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
WORKDIR /app
COPY pyproject.toml README.md ./
COPY accelerator ./accelerator
COPY workflows ./workflows
COPY api ./api
COPY cli ./cli
RUN pip install --no-cache-dir .
USER nobody
CMD ["accelerator", "serve", "--host", "0.0.0.0"]
