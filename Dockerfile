# drydock in a container, with the clients it runs: pg_dump/pg_restore/psql (PostgreSQL),
# mariadb-dump/mariadb (MariaDB and MySQL), sqlite3, ssh (hosts over SSH), tar and git.
#
#   docker build -t drydock .
#   docker run --rm -v "$PWD:/work" -w /work drydock plan specs/prod
#
# AWS credentials come from the environment or an instance role, never from the image.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN python -m pip install --no-cache-dir build==1.6.1 \
 && python -m build --wheel --outdir /dist .

FROM python:3.11-slim-bookworm
# The Debian release (bookworm) pins the clients' major versions; its security updates
# are wanted, so the packages themselves are not pinned to one build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      postgresql-client \
      mariadb-client \
      sqlite3 \
      openssh-client \
      git \
      tar \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /dist/ /dist/
RUN python -m pip install --no-cache-dir /dist/*.whl \
 && rm -rf /dist \
 && useradd --create-home --uid 10001 drydock
USER 10001
WORKDIR /work
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["drydock"]
CMD ["--help"]
