package coop.cli;

import coop.scheduler.audit.ReceiptCheck;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.SignedHead;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Stream;

/**
 * The receipts and witnesses a member keeps, one small canonical JSON file each, in the folder
 * beside its identity file ({@code alice.json} keeps them in {@code alice.receipts/}):
 * {@code SEQ.json} is the scheduler's signed head a reply carried, {@code witness-SEQ.json} the
 * member's own signed witness. {@code coop ledger verify --receipts} checks them all.
 */
final class ReceiptFiles {
    private ReceiptFiles() {
    }

    /** The folder of the member whose identity file is {@code identityFile}. */
    static Path folder(Path identityFile, String member) {
        return identityFile.toAbsolutePath().resolveSibling(member + ".receipts");
    }

    /** Keeps a receipt (once per sequence number). */
    static void keep(Path folder, SignedHead receipt) throws IOException {
        write(folder.resolve(receipt.seq() + ".json"), receipt.toMap());
    }

    /** Keeps the member's signed witness. */
    static Path keepWitness(Path folder, SortedMap<String, Object> statement, String signature) throws IOException {
        Path file = folder.resolve("witness-" + statement.get("seq") + ".json");
        write(file, Map.of("statement", statement, "signature", signature));
        return file;
    }

    private static void write(Path file, Map<String, Object> content) throws IOException {
        if (Files.exists(file)) {
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".receipt-", ".tmp");
        Files.write(tmp, Canonical.encode(content));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** What a folder holds. */
    record Kept(List<ReceiptCheck.Receipt> receipts, List<ReceiptCheck.Witness> witnesses) {
    }

    /**
     * Reads every receipt and witness in {@code folder}; witnesses check with {@code publicKey}
     * (the member's own).
     *
     * @throws CliException naming a file that is no receipt
     */
    @SuppressWarnings("unchecked")
    static Kept read(Path folder, String publicKey) {
        List<ReceiptCheck.Receipt> receipts = new ArrayList<>();
        List<ReceiptCheck.Witness> witnesses = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return new Kept(receipts, witnesses);
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList()) {
                String name = f.getFileName().toString();
                try {
                    SortedMap<String, Object> m = Canonical.parseObject(Files.readAllBytes(f));
                    if (name.startsWith("witness-")) {
                        if (!(m.get("statement") instanceof SortedMap<?, ?> s) || !(m.get("signature") instanceof String sig)) {
                            throw new IllegalArgumentException("a witness holds statement and signature");
                        }
                        witnesses.add(new ReceiptCheck.Witness(name, (SortedMap<String, Object>) s, sig, publicKey));
                    } else {
                        receipts.add(new ReceiptCheck.Receipt(name, SignedHead.of(m)));
                    }
                } catch (IllegalArgumentException e) {
                    throw new CliException("--receipts: " + f + " is no receipt: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new CliException("--receipts: cannot read " + folder + ": " + e.getMessage());
        }
        return new Kept(receipts, witnesses);
    }
}
