// The browser's cryptography, all from typage and the @noble libraries it
// depends on: age decryption (X25519 and scrypt), HMAC and SHA-256, and for
// self-service enrolment, a new X25519 identity sealed with a passphrase.
export { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
export { hmac } from "@noble/hashes/hmac.js";
export { sha256 } from "@noble/hashes/sha2.js";
