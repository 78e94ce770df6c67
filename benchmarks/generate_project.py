#!/usr/bin/env python3
"""Writes a synthetic mgw project for build benchmarks: N APIs of M resources each.

Each API is its own file, api_definitions/api-NNNN.yaml, with a distinct title, x-wso2-basePath
and servers URL; resources come in GET/PUT pairs on path templates with parameters, request and
response schemas by $ref, a response example, security requirements and throttling tiers, so the
reader, the $ref resolver and the bundle writer all do real work. Deterministic: the same arguments
give the same bytes.

    generate_project.py OUT_DIR [--apis 1000] [--resources 20]
"""
import argparse
import os

API = """openapi: 3.0.3
info:
  title: Bench API {n:04d}
  version: 1.0.{minor}
  description: Synthetic API {n} for the mgw build benchmark.
x-wso2-basePath: /bench/{n:04d}/{{version}}
x-wso2-throttling-tier: 10kPerMin
servers:
  - url: http://backend-{n:04d}.example:8080/api
security:
  - oauth: [read]
paths:
{paths}components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://idp.example/token
          scopes: {{read: read access, write: write access}}
    key: {{type: apiKey, in: header, name: X-API-Key}}
  parameters:
    limit: {{name: limit, in: query, schema: {{type: integer, minimum: 1, maximum: 100}}}}
  schemas:
    Item:
      type: object
      required: [id, name]
      properties:
        id: {{type: string}}
        name: {{type: string}}
        price: {{type: number}}
        tags: {{type: array, items: {{type: string}}}}
    Error:
      type: object
      properties:
        code: {{type: integer}}
        message: {{type: string}}
"""

PATH = """  /things{r}/{{thing{r}Id}}:
    parameters:
      - {{name: thing{r}Id, in: path, required: true, schema: {{type: string}}}}
    get:
      operationId: getThing{r}
      parameters: [{{$ref: "#/components/parameters/limit"}}]
      responses:
        "200":
          description: the thing
          content:
            application/json:
              schema: {{$ref: "#/components/schemas/Item"}}
              example: {{id: "t{r}", name: thing {r}, price: 9.5, tags: [a, b]}}
        "404":
          description: not found
          content: {{application/json: {{schema: {{$ref: "#/components/schemas/Error"}}}}}}
    put:
      operationId: putThing{r}
      x-wso2-throttling-tier: 20kPerMin
      security: [{{oauth: [write]}}, {{key: []}}]
      requestBody:
        content: {{application/json: {{schema: {{$ref: "#/components/schemas/Item"}}}}}}
      responses:
        "204": {{description: stored}}
"""

TOML = """[project]
name = "bench"

[[auth.jwt]]
issuer = "https://idp.example/token"
jwks_url = "https://idp.example/jwks"

[auth.api_keys]
keys_file = "api_keys.txt"
"""

POLICIES = """resourcePolicies:
  - 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}
  - 20kPerMin: {count: 20000, unitTime: 1, timeUnit: min}
applicationPolicies:
  - 50PerMin: {count: 50, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Unauthenticated: {count: 500, unitTime: 1, timeUnit: min}
  - Default: {count: 500, unitTime: 1, timeUnit: min}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--apis", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=20, help="per API; rounded up to even")
    args = parser.parse_args()
    pairs = (args.resources + 1) // 2
    write(os.path.join(args.out, "mgw.toml"), TOML)
    write(os.path.join(args.out, "policies.yaml"), POLICIES)
    write(os.path.join(args.out, "api_keys.txt"), "0" * 64 + " bench-app 50PerMin\n")
    paths = "".join(PATH.format(r=r) for r in range(pairs))
    for n in range(args.apis):
        write(os.path.join(args.out, "api_definitions", f"api-{n:04d}.yaml"),
              API.format(n=n, minor=n % 10, paths=paths))


if __name__ == "__main__":
    main()
