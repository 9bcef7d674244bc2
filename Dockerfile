# syntax=docker/dockerfile:1
# The production image: a static Go binary (no cgo, -trimpath) on distroless
# "static", running as an unprivileged user. Generated code (templ, sqlc) and
# static assets are committed and embedded, so the build needs only Go.
#
#   docker build -t saas .
#   docker run --env-file prod.env -p 8080:8080 saas          # serve
#   docker run --env-file prod.env saas migrate               # release step
#
# See docs/DEPLOY.md for configuration, migrations and health checks.

FROM golang:1.26 AS build
WORKDIR /src
# Build with the toolchain of this image; CI pins the patched release
# (GOTOOLCHAIN in .ci/run), so keep the image's tag at least as new.
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local
COPY . .
# Only the modules ./cmd/web imports are fetched (go.mod also lists dev tools).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/web ./cmd/web

# distroless/static has CA certificates (Clerk's API, TLS to PostgreSQL) and
# tzdata but no shell or package manager. Pin it by digest in your fork.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/web /web
USER nonroot:nonroot
ENV APP_ENV=production ADDR=:8080
EXPOSE 8080
# No HEALTHCHECK: the image has no shell or curl to run one. Use the
# orchestrator's HTTP probes instead: liveness GET /healthz, readiness
# GET /readyz (docs/DEPLOY.md). Metrics are off unless METRICS_ADDR is set.
ENTRYPOINT ["/web"]
CMD ["serve"]
