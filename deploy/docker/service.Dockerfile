# syntax=docker/dockerfile:1
# One image per XueJi service, from this one file (docs/adr/0004-one-dockerfile.md):
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=transfer -t xueji/transfer .
# Build context: the repository root (.dockerignore keeps .venv, var/, tests and every
# node_modules out).

# The console's browser files (htmx and ECharts, services/console/package.json), installed from
# its lock file on the official node image; the image gets only the two files assets.py serves
# (about 1.2 MB of the packages' 68), neither node nor npm. A COPY cannot depend on a build
# argument, so every service's build runs this stage (and pulls the node image once): for the
# others it makes an empty folder, and their images get an empty services/console/node_modules.
FROM node:24-slim AS console-node-modules
ARG SERVICE
WORKDIR /console
COPY services/console/package.json services/console/package-lock.json ./
# npm ci installs exactly the lock file (hashes checked) and fails if package.json disagrees;
# --omit=dev leaves out axe-core (browser tests only); --ignore-scripts: no package runs code.
RUN mkdir -p /served \
    && if [ "${SERVICE}" = console ]; then \
        npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
        && mkdir -p /served/htmx.org/dist /served/echarts/dist \
        && cp node_modules/htmx.org/dist/htmx.min.js /served/htmx.org/dist/ \
        && cp node_modules/echarts/dist/echarts.min.js /served/echarts/dist/; \
    fi

FROM python:3.11-slim

ARG SERVICE
# Fail the build, not the container, on a missing or misspelt service name.
RUN case "${SERVICE}" in \
        identity|enrollment|checkin|transfer|certificates|console) ;; \
        *) echo "build with --build-arg SERVICE=identity|enrollment|checkin|transfer|certificates|console" >&2; exit 1 ;; \
    esac

# PYTHONFAULTHANDLER: a native crash (SIGSEGV, SIGABRT) prints every thread's Python stack to
# the log, so a process that dies on its own says where.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SERVICE=${SERVICE} \
    XUEJI_HTTP_HOST=0.0.0.0 \
    XUEJI_HTTP_PORT=8000 \
    XUEJI_TRACE_DIR=/traces

# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it and volumes can be prepared for it.
RUN groupadd --system --gid 10001 xueji \
    && useradd --system --uid 10001 --gid xueji --home-dir /app --no-create-home --shell /usr/sbin/nologin xueji

WORKDIR /app

# certificates only: the CJK fonts its renderer reads (/usr/share/fonts/opentype/noto,
# services/certificates/printing/render.py) and qpdf, which joins a print batch's parts into the
# printer's file (services/certificates/batches/files.py). Before the pip layer, so a change of
# requirements does not fetch these again; the other five images get an empty layer.
RUN if [ "${SERVICE}" = certificates ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends fonts-noto-cjk qpdf \
        && rm -rf /var/lib/apt/lists/*; \
    fi

# Dependencies next: this layer survives code changes.
# Every pinned package has a manylinux wheel for 3.11, so no compiler is needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The console's two browser files (an empty folder in the other images), where
# services/console/assets.py serves them from; before the code, so a code change does not
# copy them again.
COPY --from=console-node-modules /served/ services/console/node_modules/

COPY shared/ shared/
# All services' code (a few hundred kilobytes): the compose one-shot `deploy.local.provision`
# declares every service's queues from their specs, and extra processes such as identity's face
# worker run from the same image. SERVICE only chooses what the container runs.
COPY services/ services/
COPY deploy/__init__.py deploy/
COPY deploy/local/ deploy/local/
COPY deploy/seed/ deploy/seed/
# Bytecode now, as root: at run time the root filesystem may be read-only (deploy/k8s/).
RUN python -m compileall -q shared services deploy

# Owned by the service user so that a named volume mounted here starts out writable by it
# (Docker copies a fresh volume's owner from the image directory it is mounted over);
# /certificates takes certificates' print files (XUEJI_CERTIFICATE_OUTPUT_DIR).
RUN mkdir -p /traces /keys /certificates && chown xueji:xueji /traces /keys /certificates

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('XUEJI_HTTP_PORT', '8000'), timeout=2)"]

# The exec form cannot expand the build argument, so a shell resolves the module and then
# replaces itself: python is PID 1 and gets SIGTERM directly (uvicorn then shuts down cleanly).
CMD ["sh", "-c", "exec python -m \"services.$SERVICE\""]
