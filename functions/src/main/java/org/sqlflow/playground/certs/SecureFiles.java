package org.sqlflow.playground.certs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;

/**
 * File writes for key material. Permissions are given at creation (never chmod after the fact), so there is no
 * moment when a key exists with the umask's permissions. Replacements go through a temporary file in the same
 * directory and an atomic rename, so a reader never sees half a CRL and a crash never leaves half a key.
 */
public final class SecureFiles {

    /** Owner-only file: private keys, and anything else in a key directory the tool wants private. */
    public static final Set<PosixFilePermission> OWNER_ONLY = Set.copyOf(PosixFilePermissions.fromString("rw-------"));
    /** Certificates and CRLs are public; the enclosing 0700 directory still keeps others out. */
    public static final Set<PosixFilePermission> PUBLIC_READ = Set.copyOf(PosixFilePermissions.fromString("rw-r--r--"));

    public static final Set<PosixFilePermission> OWNER_ONLY_DIR =
            Set.copyOf(PosixFilePermissions.fromString("rwx------"));

    private SecureFiles() {}

    /** Creates the directory (and missing parents) as 0700; an existing directory is left as it is. */
    public static void createDirectories(Path dir) throws IOException {
        requirePosix(dir);
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, attribute(OWNER_ONLY_DIR));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    /** Writes a new file; fails with {@link FileAlreadyExistsException} if anything exists at that path. */
    public static void writeNew(Path file, String content, Set<PosixFilePermission> permissions) throws IOException {
        requirePosix(file);
        try (OutputStream out =
                Files.newOutputStream(Files.createFile(file, attribute(permissions)), StandardOpenOption.WRITE)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Writes or atomically replaces the file; the new file has exactly {@code permissions}. */
    public static void replace(Path file, String content, Set<PosixFilePermission> permissions) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path temporary = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            writeNew(temporary, content, permissions);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** {@link #replace} when {@code force}, otherwise {@link #writeNew}. */
    public static void write(Path file, String content, Set<PosixFilePermission> permissions, boolean force)
            throws IOException {
        if (force) {
            replace(file, content, permissions);
        } else {
            writeNew(file, content, permissions);
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.asFileAttribute(permissions);
    }

    // Without POSIX permissions we could not promise owner-only keys, so we refuse rather than write them open.
    private static void requirePosix(Path path) throws IOException {
        if (!path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            throw new IOException(
                    "the certs tool needs a POSIX file system (Linux, macOS, WSL) to protect keys: " + path);
        }
    }
}
