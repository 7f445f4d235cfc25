# One image for both production processes: `threadwork worker` and `threadwork gateway`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    THREADWORK_HOST=0.0.0.0 THREADWORK_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bots ./bots
COPY workflows ./workflows
COPY adapters ./adapters
COPY manifest ./manifest
RUN pip install --no-cache-dir . && useradd --create-home threadwork && mkdir -p /data && chown threadwork /data
USER threadwork
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["threadwork"]
CMD ["gateway"]
