package org.sensorium.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import org.sensorium.data.FolderManifest.Skip;

/**
 * The folder {@link FolderManifest} scans: its files, their names relative to it, and the skip report (every
 * file left out, with why). Skips are kept in the order they happen; the scan sorts them by file when it is done.
 */
final class FolderFiles {
    final Path dir;
    final List<Skip> skipped = new ArrayList<>();

    /** @param dir absolute and normalised */
    FolderFiles(Path dir) {
        this.dir = dir;
    }

    /** Every regular file under dir, sorted, without hidden ones and without exclude; unreadable folders are skips. */
    List<Path> list(Path exclude) throws IOException {
        Path skipFile = exclude == null ? null : exclude.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                return !d.equals(dir) && hidden(d) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                if (a.isRegularFile() && !hidden(f) && !f.toAbsolutePath().normalize().equals(skipFile)) {
                    if (spellable(f)) {
                        out.add(f.toAbsolutePath().normalize());
                    } else {
                        skipped.add(new Skip(relative(f), "its name is not valid " + System.getProperty("sun.jnu.encoding")
                                + " (this system's encoding of file names), so no uri can name it; rename it"));
                    }
                } else if (!a.isRegularFile() && !a.isDirectory() && !hidden(f)) { // a FIFO, socket or device: listed, never opened
                    skipped.add(new Skip(relative(f), "not a regular file (a FIFO, a socket or a device)"));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) {
                skipped.add(new Skip(relative(f), "cannot read: " + e.getClass().getSimpleName() + " " + e.getMessage()));
                return FileVisitResult.CONTINUE;
            }
        });
        out.sort(null);
        return out;
    }

    /**
     * Whether f's name survives the round trip through a string: a name whose bytes are not in the file name encoding
     * decodes with replacement characters, and the uri written from that string would name another file (or none).
     */
    static boolean spellable(Path f) {
        try {
            return f.getFileSystem().getPath(f.toString()).equals(f);
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    void skip(Path f, String reason) {
        skipped.add(new Skip(relative(f), reason.replaceAll("\\s+", " ").trim()));
    }

    static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static String utf8(Path f) throws IOException {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(f))).toString();
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        } catch (CharacterCodingException e) {
            throw new IOException("not valid UTF-8 text", e);
        }
    }

    /** The file's path relative to dir, '/'-separated. */
    String relative(Path f) {
        return slashes(dir.relativize(f.toAbsolutePath().normalize()));
    }

    /** The folder of f relative to dir, '/'-separated; "" for dir itself. */
    String folder(Path f) {
        Path parent = dir.relativize(f.toAbsolutePath().normalize()).getParent();
        return parent == null ? "" : slashes(parent);
    }
    static String key(String folder, String base) {
        return folder.isEmpty() ? base : folder + "/" + base;
    }

    static String slashes(Path p) {
        return p.toString().replace(p.getFileSystem().getSeparator(), "/");
    }

    static boolean hidden(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    /** Lower-case extension without the dot; "" when there is none. */
    static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    static String base(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? name : name.substring(0, dot);
    }
}
