"""A small valid manifest used by the loader tests."""

VALID_MANIFEST = """\
schema: 1
id: demo-web
name: Demo Web
version: "1.2.3"
revision: 1
summary: A demo web app
description: Serves a page.
category: developer
license: MIT
homepage: https://example.org/demo
source: https://example.org/demo/src
architectures: [amd64, arm64]
containers:
  - name: demo-web
    image: docker.io/library/nginx:1.27.3
    env:
      MODE: production
      TOKEN: {secret: api-token}
    ports:
      - container: 80
        host: 18080
        expose: lan
    volumes:
      - name: data
        path: /usr/share/nginx/html
    health:
      http: {port: 80, path: /}
ui: {container: demo-web, port: 80}
generated_secrets:
  - name: api-token
"""
