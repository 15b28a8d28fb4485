# payhost in a container: the host built from this checkout, run as an
# unprivileged user; configuration, secrets and connectors from
# /etc/payhost (mounted read-only), the journal and compile cache on the
# volume /var/lib/payhost. See README.md, "Running the host as a service".
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p payhost-cli \
 && install -Dm755 target/release/payhost /out/payhost

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/payhost --shell /usr/sbin/nologin payhost \
 && install -d -o payhost -g payhost -m 0700 /var/lib/payhost
COPY --from=build /out/payhost /usr/local/bin/payhost
USER payhost
WORKDIR /var/lib/payhost
VOLUME ["/var/lib/payhost"]
EXPOSE 8700
STOPSIGNAL SIGTERM
ENV PAYHOST_CONFIG=/etc/payhost/payhost.toml
ENTRYPOINT ["/usr/local/bin/payhost"]
# `docker run … payhost config check` checks the mounted configuration.
CMD ["serve"]
