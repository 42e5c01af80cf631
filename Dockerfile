FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin meridian

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/meridian /usr/local/bin/meridian
EXPOSE 8080
CMD ["meridian", "demo", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]
