# The Simulations API mock (the reference server) as a container, for teams without this
# repository's toolchain. At the workspace root (the build needs the workspace's Cargo.lock,
# its manifests and spec/openapi.json, which the server serves):
#
#   docker build -t simulations-mock .
#   docker run --rm -p 8080:8080 simulations-mock                    # development keys
#   docker run --rm -p 8080:8080 simulations-mock --fault oldest-first,create-returns-201
#   docker run --rm -p 8080:8080 -e SERVE_API_KEYS='KEY:TEAM:USER' simulations-mock
#
# Inside, the server listens on 0.0.0.0:8080; arguments after the image name are its flags
# (`reference-server --help`).

# The toolchain this repository is built and tested with; the workspace needs 1.88 or later.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# --locked: the versions of the committed Cargo.lock, as CI tests them. --features faults: the
# fault catalog (`--fault`, `--list-faults`), which the faithful server's default build leaves out.
RUN cargo build --release --locked --package reference-server --bin reference-server --features faults

# glibc and libgcc (what a Rust binary links dynamically) of the build image's Debian, and no
# shell; `nonroot` is uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/reference-server /usr/local/bin/reference-server
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/reference-server", "--addr", "0.0.0.0:8080"]
