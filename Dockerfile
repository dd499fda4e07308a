# The service image. The build stage resolves the locked runtime set (uv.lock, no dev groups) into a
# virtualenv; the runtime stage carries only that virtualenv and api/.
#
# `docker build -t predictor .` builds it as it stands: every default below is the real value, copied from
# its one source (uid and port: api/service.json; version: pyproject.toml; uv: the Makefile's UV_VERSION),
# and tests/image/test_dockerfile_defaults.py fails when a copy drifts from its source. `make image` passes
# the same values from those sources, plus the revision, creation date and source labels from git and
# the clock.

# The base: official slim Python, its tag pinned to the digest of the multi-architecture index. 3.11 is
# also Debian bookworm's python3, so a base assembled from Debian packages behaves alike. Repository and
# tag are separate so that every FROM names a tag.
ARG BASE_IMAGE=docker.io/library/python
ARG BASE_TAG=3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
# The virtualenv's interpreter links to the base's by absolute path, so both stages use the same base and path.
ARG VENV=/opt/venv
ARG UV_VERSION=0.13.9
ARG APP_UID=10001
ARG APP_PORT=8000
ARG VERSION=0.1.0

FROM ${BASE_IMAGE}:${BASE_TAG} AS build
ARG VENV
ARG UV_VERSION
ARG APP_UID
ARG APP_PORT
# Build stage only: pip and uv trust the system bundle, which `make image` replaces with the host's on
# buildah so a TLS-inspecting proxy works; nothing from this stage but the virtualenv reaches the image.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=${VENV}

# First, before any download: refuse a value a build argument emptied or made unusable. binutils is here
# only to strip the debug sections that wheels ship (uvloop's alone are 11 MB).
RUN missing=""; \
    [ -n "${UV_VERSION:-}" ] || missing="${missing} UV_VERSION"; \
    [ -n "${APP_UID:-}" ] || missing="${missing} APP_UID"; \
    [ -n "${APP_PORT:-}" ] || missing="${missing} APP_PORT"; \
    if [ -n "${missing}" ]; then \
        echo "empty build arguments:${missing} (leave them out to build with the Dockerfile's defaults)" >&2; \
        exit 1; \
    fi; \
    case "${APP_UID}:${APP_PORT}" in *[!0-9:]*) \
        echo "APP_UID=${APP_UID}, APP_PORT=${APP_PORT}: both must be numbers" >&2; exit 1;; \
    esac; \
    if [ "${APP_UID}" -eq 0 ]; then echo "APP_UID=0: the service must not run as root" >&2; exit 1; fi; \
    apt-get update \
    && apt-get install -y --no-install-recommends binutils=2.40-2 \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /src
COPY pyproject.toml uv.lock ./
# Bytecode is compiled here, hash-based and unchecked: the image is immutable, so the interpreter never
# stats a source file or tries to write a .pyc (the root filesystem is read-only).
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-default-groups --no-install-project \
    && find "${VENV}" -name '*.so' -exec strip --strip-debug {} + \
    && "${VENV}/bin/python" -m compileall -q -j 0 --invalidation-mode unchecked-hash "${VENV}/lib"

COPY api/ /app/api/
# Readable by the service's uid and writable by root only, whatever the umask of the checkout was.
RUN "${VENV}/bin/python" -m compileall -q --invalidation-mode unchecked-hash /app/api \
    && chmod -R a+rX,go-w /app "${VENV}"


FROM ${BASE_IMAGE}:${BASE_TAG} AS runtime
ARG BASE_IMAGE
ARG BASE_TAG
ARG VENV
ARG APP_UID
ARG APP_PORT

COPY --from=build ${VENV} ${VENV}
COPY --from=build /app /app
WORKDIR /app

# Import the service and the Litestar app it loads after start-up once, which writes bytecode for the
# standard-library modules they use into the base (official images ship none; Debian's python3 has it,
# so there this writes nothing).
RUN "${VENV}/bin/python" -c "import api.server, api.healthcheck, api.litestar_app"

ENV PATH="${VENV}/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PREDICTOR_HOST=0.0.0.0
USER ${APP_UID}:${APP_UID}
EXPOSE ${APP_PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["python", "-m", "api.healthcheck"]
# Exec form: the interpreter is PID 1 and receives SIGTERM itself, so the service's graceful drain runs.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "api"]

# Labels last: they change with every commit and must not invalidate the layers above.
ARG VERSION
ARG REVISION
ARG CREATED
ARG SOURCE
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}:${BASE_TAG}"
