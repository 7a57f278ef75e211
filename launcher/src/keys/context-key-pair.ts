import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";

export interface ContextKeyPair {
  /** PKCS8 PEM: the gateway signs tenant contexts with it. */
  signingKey: string;
  /** SPKI PEM: every subgraph verifies tenant contexts with it. */
  verifyKey: string;
}

/** A fresh Ed25519 key pair for tenant contexts. */
export async function generateContextKeyPair(): Promise<ContextKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { signingKey: await exportPKCS8(privateKey), verifyKey: await exportSPKI(publicKey) };
}
