using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Compose;

public static partial class SafePath
{
    /// <summary>The mode of files the helpers create on Unix: owner read and write (<c>0600</c>).</summary>
    public const UnixFileMode OwnerOnlyFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The mode of directories the helpers create on Unix: owner read, write and search (<c>0700</c>).</summary>
    public const UnixFileMode OwnerOnlyDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Opens an existing file under <paramref name="root"/> for reading, and makes sure the file the operating system
    /// opened is the one that was checked: no link swapped in after the check leads outside the root.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <see cref="Resolve"/> checks a path, and the caller opens it later; a directory swapped for a symbolic link in
    /// between is followed by the open (time of check, time of use). Here the path is checked as by
    /// <see cref="Resolve"/>, opened, and then the handle's own final path is read back from the operating system
    /// (Linux <c>/proc/self/fd</c>, macOS <c>proc_pidfdinfo</c>, the path <c>fcntl(F_GETPATH)</c> gives, Windows
    /// <c>GetFinalPathNameByHandleW</c>). A handle whose file lies outside the root (after resolving the root's own
    /// links) is closed before a byte is read, and the call throws.
    /// </para>
    /// <para>
    /// A file with more than one hard link is refused too unless <paramref name="allowHardLinks"/> is set: a hard
    /// link is an ordinary directory entry, so a link under the root to a file elsewhere cannot be told from a file
    /// of the root's own. Where the platform cannot report the final path or the link count (no <c>/proc</c>, a C
    /// library without <c>statx</c>, another operating system) the file is refused: the check fails closed.
    /// </para>
    /// </remarks>
    /// <param name="root">The folder the file must lie under: an absolute path.</param>
    /// <param name="relativePath">The untrusted path, with <c>/</c> as the only separator (rules of <see cref="Resolve"/>).</param>
    /// <param name="allowHardLinks">Whether a file with more than one hard link may be opened. Default <see langword="false"/>.</param>
    /// <returns>A stream positioned at the start of the file, opened with <see cref="FileShare.Read"/>; dispose it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> or <paramref name="relativePath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not an absolute path.</exception>
    /// <exception cref="UnauthorizedAccessException">
    /// The path is refused (see <see cref="Resolve"/>), the opened file lies outside the root, or it has more than one
    /// hard link; or the operating system denies access.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">A folder on the path does not exist.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static FileStream OpenRead(string root, string relativePath, bool allowHardLinks = false)
    {
        var normalizedRoot = NormalizeRoot(root);
        var path = Resolve(normalizedRoot, relativePath);
        return OpenChecked(normalizedRoot, relativePath, path, FileMode.Open, FileAccess.Read, FileShare.Read, allowHardLinks);
    }

    /// <summary>
    /// Opens or creates a file under <paramref name="root"/> for writing, with the same after-open check as
    /// <see cref="OpenRead"/>; a file it creates is owner-only on Unix (<c>0600</c>), and so are the missing folders
    /// it creates on the way (<c>0700</c>).
    /// </summary>
    /// <remarks>
    /// An existing file is never truncated or positioned at its end before the check has passed:
    /// <see cref="FileMode.Create"/> and <see cref="FileMode.Truncate"/> open without truncating, check, then set the
    /// length to 0. What a race can still do is create an empty file, or a folder, where a swapped link points: the
    /// operating system creates it on open, before the handle can be examined. Nothing is written to it, and the
    /// call throws. The mode of an existing file is left as it is.
    /// </remarks>
    /// <param name="root">The folder the file must lie under: an absolute path.</param>
    /// <param name="relativePath">The untrusted path, with <c>/</c> as the only separator (rules of <see cref="Resolve"/>).</param>
    /// <param name="mode">
    /// How to open the file, as for <see cref="FileStream"/>: <see cref="FileMode.Create"/> (the default),
    /// <see cref="FileMode.CreateNew"/>, <see cref="FileMode.OpenOrCreate"/>, <see cref="FileMode.Open"/>,
    /// <see cref="FileMode.Truncate"/> or <see cref="FileMode.Append"/>.
    /// </param>
    /// <param name="allowHardLinks">Whether an existing file with more than one hard link may be opened. Default <see langword="false"/>.</param>
    /// <returns>A write-only stream opened with <see cref="FileShare.None"/>; dispose it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> or <paramref name="relativePath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not an absolute path.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a <see cref="FileMode"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">
    /// The path is refused, the opened file lies outside the root, or it has more than one hard link; or the operating
    /// system denies access.
    /// </exception>
    /// <exception cref="IOException">The file cannot be opened (for example it exists and <paramref name="mode"/> is <see cref="FileMode.CreateNew"/>).</exception>
    public static FileStream OpenWrite(string root, string relativePath, FileMode mode = FileMode.Create, bool allowHardLinks = false)
    {
        if (mode is < FileMode.CreateNew or > FileMode.Append)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not a FileMode.");
        }

        var normalizedRoot = NormalizeRoot(root);
        var path = Resolve(normalizedRoot, relativePath);
        if (mode is not (FileMode.Open or FileMode.Truncate))
        {
            CreateOwnerOnlyDirectory(Path.GetDirectoryName(path)!);
        }

        var openMode = mode switch
        {
            FileMode.Create or FileMode.Append => FileMode.OpenOrCreate,
            FileMode.Truncate => FileMode.Open,
            _ => mode,
        };
        var stream = OpenChecked(normalizedRoot, relativePath, path, openMode, FileAccess.Write, FileShare.None, allowHardLinks);
        try
        {
            if (mode is FileMode.Create or FileMode.Truncate)
            {
                stream.SetLength(0);
            }
            else if (mode is FileMode.Append)
            {
                stream.Seek(0, SeekOrigin.End);
            }

            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces (or creates) a file under <paramref name="root"/> atomically: the bytes go to a new temporary file in
    /// the same folder (owner-only on Unix, opened and checked as by <see cref="OpenWrite"/>), are flushed to disk,
    /// and the temporary file is renamed over the target. A reader sees the old content or the new, never a torn file;
    /// a crash leaves at most a stray <c>.{name}.{random}.tmp</c>.
    /// </summary>
    /// <remarks>
    /// The rename replaces the directory entry, so a hard link or symbolic link that appears at the target after the
    /// check is replaced, not written through. On Unix the target's folder is opened and checked once, and the rename
    /// is relative to that open folder (<c>renameat</c>), so a folder on the way swapped for a link after the check
    /// cannot redirect it; Windows renames by path. Missing folders are created owner-only (<c>0700</c>) on Unix. The
    /// folder itself is not flushed after the rename.
    /// </remarks>
    /// <param name="root">The folder the file must lie under: an absolute path.</param>
    /// <param name="relativePath">The untrusted path, with <c>/</c> as the only separator (rules of <see cref="Resolve"/>).</param>
    /// <param name="contents">The new content of the file.</param>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> or <paramref name="relativePath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not an absolute path.</exception>
    /// <exception cref="UnauthorizedAccessException">The path is refused, or the temporary file did not end up under the root.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed (for example the target is a folder).</exception>
    public static void WriteAllBytesAtomic(string root, string relativePath, ReadOnlySpan<byte> contents)
    {
        using var write = AtomicWrite.Begin(root, relativePath);
        try
        {
            using (var stream = write.OpenTemporary())
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            write.Commit();
        }
        catch
        {
            write.Abandon();
            throw;
        }
    }

    /// <summary>Replaces (or creates) a file atomically, like <see cref="WriteAllBytesAtomic"/>, writing asynchronously.</summary>
    /// <param name="root">The folder the file must lie under: an absolute path.</param>
    /// <param name="relativePath">The untrusted path, with <c>/</c> as the only separator (rules of <see cref="Resolve"/>).</param>
    /// <param name="contents">The new content of the file.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then left as it was and the temporary file removed.</param>
    /// <returns>A task that completes once the new content is on disk under the target's name.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> or <paramref name="relativePath"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="root"/> is not an absolute path.</exception>
    /// <exception cref="UnauthorizedAccessException">The path is refused, or the temporary file did not end up under the root.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the rename.</exception>
    public static async Task WriteAllBytesAtomicAsync(string root, string relativePath, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var write = AtomicWrite.Begin(root, relativePath);
        try
        {
            var stream = write.OpenTemporary();
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();
            write.Commit();
        }
        catch
        {
            write.Abandon();
            throw;
        }
    }

    /// <summary>Creates a folder and its missing parents; on Unix the ones it creates are owner-only (<c>0700</c>).</summary>
    internal static void CreateOwnerOnlyDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            // Directory.CreateDirectory(path, mode) gives the mode to the last folder only: create the missing ones
            // from the top down, each with it.
            var missing = new Stack<string>();
            for (var folder = Path.GetFullPath(path); !Directory.Exists(folder); folder = Path.GetDirectoryName(folder)!)
            {
                missing.Push(folder);
                if (Path.GetDirectoryName(folder) is null)
                {
                    break;
                }
            }

            while (missing.TryPop(out var folder))
            {
                Directory.CreateDirectory(folder, OwnerOnlyDirectoryMode);
            }
        }
    }

    private static FileStream OpenChecked(string root, string relativePath, string path, FileMode mode, FileAccess access, FileShare share, bool allowHardLinks)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows() && mode is not (FileMode.Open or FileMode.Truncate))
        {
            options.UnixCreateMode = OwnerOnlyFileMode;
        }

        var stream = new FileStream(path, options);
        string? reason;
        try
        {
            reason = CheckHandle(stream.SafeFileHandle, root, allowHardLinks);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        if (reason is not null)
        {
            stream.Dispose();
            throw new UnauthorizedAccessException($"The path '{Excerpt(relativePath)}' was rejected: {reason}.");
        }

        return stream;
    }

    // Returns why the opened handle is refused, or null.
    private static string? CheckHandle(SafeFileHandle handle, string root, bool allowHardLinks)
    {
        var finalPath = SafeHandleInfo.FinalPath(handle);
        if (finalPath is null)
        {
            return "the operating system could not say which file was opened";
        }

        var realRoot = (OperatingSystem.IsWindows() ? SafeHandleInfo.WindowsFinalDirectoryPath(root) : null) ?? RealRoot(root);
        if (realRoot is null)
        {
            return "the root is a symbolic link loop";
        }

        if (!IsUnder(finalPath, realRoot, orEqual: false))
        {
            return "the file opened lies outside the root (a link changed after the path was checked)";
        }

        if (allowHardLinks)
        {
            return null;
        }

        var links = SafeHandleInfo.LinkCount(handle);
        return links switch
        {
            null => "the operating system could not say how many hard links the file has",
            > 1 => $"the file has {links.Value.ToString(CultureInfo.InvariantCulture)} hard links, so it may be another name of a file outside the root",
            _ => null,
        };
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray temporary file is harmless, and the original exception matters more.
        }
    }

    /// <summary>
    /// One atomic replacement: the target's folder, opened and checked once (Unix); a temporary file beside the target;
    /// a rename relative to the open folder (<c>renameat</c>), so a folder on the way that is swapped for a link after
    /// the check cannot redirect the rename. Windows renames by path.
    /// </summary>
    private sealed class AtomicWrite : IDisposable
    {
        private readonly string _root;
        private readonly string _target;
        private readonly string _temporaryRelative;
        private readonly SafeFileHandle? _directory;

        private AtomicWrite(string root, string target, string temporaryRelative, SafeFileHandle? directory)
        {
            _root = root;
            _target = target;
            _temporaryRelative = temporaryRelative;
            _directory = directory;
        }

        private string TargetName => Path.GetFileName(_target);

        private string TemporaryName => _temporaryRelative[(_temporaryRelative.LastIndexOf('/') + 1)..];

        private string TemporaryPath => Path.Join(Path.GetDirectoryName(_target), TemporaryName);

        public static AtomicWrite Begin(string root, string relativePath)
        {
            var normalizedRoot = NormalizeRoot(root);
            var target = Resolve(normalizedRoot, relativePath);
            var slash = relativePath.LastIndexOf('/');
            var random = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
            var temporaryRelative = $"{relativePath[..(slash + 1)]}.{relativePath[(slash + 1)..]}.{random}.tmp";
            var folder = Path.GetDirectoryName(target)!;
            CreateOwnerOnlyDirectory(folder);
            return new AtomicWrite(normalizedRoot, target, temporaryRelative, OperatingSystem.IsWindows() ? null : OpenFolder(normalizedRoot, relativePath, folder));
        }

        public FileStream OpenTemporary() => OpenWrite(_root, _temporaryRelative, FileMode.CreateNew);

        public void Commit()
        {
            if (_directory is null)
            {
                File.Move(TemporaryPath, _target, overwrite: true);
                return;
            }

            var error = SafeHandleInfo.RenameAt(_directory, TemporaryName, TargetName);
            if (error != 0)
            {
                throw new IOException($"'{Excerpt(_target)}' could not be replaced: {new System.ComponentModel.Win32Exception(error).Message}.", error);
            }
        }

        public void Abandon()
        {
            if (_directory is null)
            {
                DeleteQuietly(TemporaryPath);
            }
            else
            {
                SafeHandleInfo.UnlinkAt(_directory, TemporaryName);
            }
        }

        public void Dispose() => _directory?.Dispose();

        private static SafeFileHandle OpenFolder(string root, string relativePath, string folder)
        {
            var handle = SafeHandleInfo.OpenDirectory(folder, out var error)
                ?? throw new IOException($"The folder of '{Excerpt(relativePath)}' could not be opened: {new System.ComponentModel.Win32Exception(error).Message}.", error);
            var finalPath = SafeHandleInfo.FinalPath(handle);
            var realRoot = RealRoot(root);
            if (finalPath is null || realRoot is null || !IsUnder(finalPath, realRoot, orEqual: true))
            {
                handle.Dispose();
                throw new UnauthorizedAccessException(
                    $"The path '{Excerpt(relativePath)}' was rejected: its folder lies outside the root (a link changed after the path was checked).");
            }

            return handle;
        }
    }
}
