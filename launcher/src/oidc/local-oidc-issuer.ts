import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { listen } from "@kombify/service-core/server";

const ORG_CLAIM = "urn:zitadel:iam:user:resourceowner:id";
const ORG_NAME_CLAIM = "urn:zitadel:iam:user:resourceowner:name";
const ROLES_CLAIM = "urn:zitadel:iam:org:project:roles";

export interface TokenClaims {
  sub: string;
  email?: string;
  name?: string;
  orgId?: string;
  orgName?: string;
  roles?: string[];
  /** The organisation that granted the roles, as Zitadel lists it per role. @default orgId */
  grantedBy?: string;
  /** jose time span ("1h") or seconds since epoch. @default "1h" */
  expiresIn?: string | number;
  notBefore?: string | number;
  audience?: string;
  issuer?: string;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/**
 * A small OpenID issuer shaped like Zitadel (JWKS at /oauth/v2/keys, Zitadel's org and role claims), for
 * development sign-in and tests. Keys are RS256, optionally persisted so tokens survive a restart.
 */
export class LocalOidcIssuer {
  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    readonly audience: string,
    private keys: SigningKey[],
  ) {}

  static async start(options: { audience: string; host?: string; port?: number; keyFile?: string }): Promise<LocalOidcIssuer> {
    const keys = options.keyFile && existsSync(options.keyFile) ? [JSON.parse(readFileSync(options.keyFile, "utf8")) as SigningKey] : [await newSigningKey()];
    if (options.keyFile && !existsSync(options.keyFile)) writeFileSync(options.keyFile, JSON.stringify(keys[0]), { mode: 0o600 });
    const host = options.host ?? "127.0.0.1";
    let self: LocalOidcIssuer | undefined;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (path === "/oauth/v2/keys") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: self!.keys.map((key) => key.publicJwk) }));
      } else if (path === "/.well-known/openid-configuration") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ issuer: self!.issuer, jwks_uri: self!.jwksUrl, id_token_signing_alg_values_supported: ["RS256"] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await listen(server, host, options.port ?? 0);
    const { port } = server.address() as AddressInfo;
    self = new LocalOidcIssuer(server, `http://${host}:${port}`, options.audience, keys);
    return self;
  }

  get jwksUrl(): string {
    return `${this.issuer}/oauth/v2/keys`;
  }

  /** Signs an access token as Zitadel would, with the newest key. */
  async mint(claims: TokenClaims): Promise<string> {
    const key = this.keys[this.keys.length - 1]!;
    const roles = Object.fromEntries((claims.roles ?? []).map((role) => [role, { [claims.grantedBy ?? claims.orgId ?? "org"]: "kombify.local" }]));
    const jwt = new SignJWT({
      ...(claims.email ? { email: claims.email } : {}),
      ...(claims.name ? { name: claims.name } : {}),
      ...(claims.orgId ? { [ORG_CLAIM]: claims.orgId } : {}),
      ...(claims.orgName ? { [ORG_NAME_CLAIM]: claims.orgName } : {}),
      ...(claims.roles ? { [ROLES_CLAIM]: roles } : {}),
    })
      .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(claims.issuer ?? this.issuer)
      .setAudience(claims.audience ?? this.audience)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(claims.expiresIn ?? "1h");
    if (claims.notBefore !== undefined) jwt.setNotBefore(claims.notBefore);
    return jwt.sign(await importJWK(key.privateJwk, "RS256"));
  }

  /** Publishes a new key and signs with it from now on (the old one stays published). */
  async rotateKey(): Promise<void> {
    this.keys = [...this.keys, await newSigningKey()];
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function newSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256" },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
  };
}
