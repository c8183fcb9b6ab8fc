# CI stand-in for nginx:1.27-alpine: Debian bookworm's nginx (1.22), reading /etc/nginx/conf.d/*.conf inside
# http {}, logs to stdout/stderr, wget for health checks.
FROM bloomwell-ci/bookworm:latest
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light wget && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && mkdir -p /usr/share/nginx/html \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
