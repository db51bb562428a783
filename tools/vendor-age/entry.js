// The browser's cryptography, all from typage and the @noble libraries it
// depends on: age decryption (X25519 and scrypt), HMAC and SHA-256.
export { Decrypter } from "age-encryption";
export { hmac } from "@noble/hashes/hmac.js";
export { sha256 } from "@noble/hashes/sha2.js";
