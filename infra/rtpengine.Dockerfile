# syntax=docker/dockerfile:1
# rtpengine from Debian 12 (the same 10.5 build the test suite runs), userspace forwarding.
# Kernel forwarding needs the xt_RTPENGINE module on the host; see docs/deploy.md.

FROM debian:12.8-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends rtpengine-daemon rtpengine-utils \
 && rm -rf /var/lib/apt/lists/*

FROM base AS runtime
# rtpengine binds only unprivileged ports (NG control and the RTP range) and needs no root.
RUN useradd --system --no-create-home --shell /usr/sbin/nologin rtpengine-run
USER rtpengine-run
# The compose service checks health through the CLI listener (rtpengine-ctl) on the port it chooses.
ENTRYPOINT ["rtpengine", "--config-file=none", "--foreground", "--log-stderr", "--table=-1"]
