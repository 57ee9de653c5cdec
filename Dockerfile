# Images for Kubernetes mode. One build stage; one small runtime image per binary:
#   docker build --target prow       -t <registry>/prow:<tag> .
#   docker build --target clonerefs  -t <registry>/clonerefs:<tag> .   (also initupload, entrypoint, sidecar)
# The pod-utility images have the utility as ENTRYPOINT, as Prow's do, so `utility_images` in
# config.yaml can point at them unchanged.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin prow --bin clonerefs --bin initupload --bin entrypoint --bin sidecar

FROM debian:bookworm-slim AS base
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/*

FROM base AS prow
COPY --from=build /src/target/release/prow /usr/local/bin/prow
ENTRYPOINT ["/usr/local/bin/prow"]

FROM base AS clonerefs
COPY --from=build /src/target/release/clonerefs /clonerefs
ENTRYPOINT ["/clonerefs"]

FROM base AS initupload
COPY --from=build /src/target/release/initupload /initupload
ENTRYPOINT ["/initupload"]

FROM base AS sidecar
COPY --from=build /src/target/release/sidecar /sidecar
ENTRYPOINT ["/sidecar"]

# The entrypoint binary is copied into test containers (`--copy-mode-only`); it links only glibc.
FROM base AS entrypoint
COPY --from=build /src/target/release/entrypoint /entrypoint
ENTRYPOINT ["/entrypoint"]
