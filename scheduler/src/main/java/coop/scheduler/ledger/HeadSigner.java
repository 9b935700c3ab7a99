package coop.scheduler.ledger;

import java.security.PrivateKey;
import java.security.interfaces.EdECPrivateKey;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Signs ledger heads with the scheduler's Ed25519 key. BouncyCastle's Ed25519 signs in about
 * 30 µs where the JDK's takes over 500 µs, and a busy scheduler signs a head for nearly every
 * turn that answers a change; Ed25519 is deterministic, so the signature is the same bytes
 * either way and verifies with {@link Keys#verify}.
 */
public final class HeadSigner {
    private final Ed25519PrivateKeyParameters key;

    /** @throws IllegalArgumentException when the key is not an Ed25519 private key */
    public HeadSigner(PrivateKey key) {
        if (!(key instanceof EdECPrivateKey ed) || ed.getBytes().isEmpty()) {
            throw new IllegalArgumentException("not an Ed25519 private key");
        }
        this.key = new Ed25519PrivateKeyParameters(ed.getBytes().get(), 0);
    }

    public SignedHead sign(long seq, String head) {
        byte[] message = SignedHead.message(seq, head);
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return new SignedHead(seq, head, Base64.getEncoder().encodeToString(signer.generateSignature()));
    }
}
