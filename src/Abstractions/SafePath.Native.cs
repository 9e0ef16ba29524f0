using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Compose;

/// <summary>
/// What the operating system says about an open handle: the path it really names and how many hard links its file
/// has. Linux reads <c>/proc/self/fd/{fd}</c> and calls <c>statx</c>; macOS calls <c>proc_pidfdinfo</c> (the path
/// <c>fcntl(F_GETPATH)</c> gives, and the link count); Windows calls <c>GetFinalPathNameByHandleW</c> and <c>GetFileInformationByHandle</c>. Every call is a
/// source-generated <see cref="LibraryImportAttribute"/> stub: no reflection, AOT- and trim-safe.
/// </summary>
internal static partial class SafeHandleInfo
{
    // Linux.
    private const int AtEmptyPath = 0x1000;
    private const uint StatxNlink = 0x4;
    private const int StatxSize = 256;
    private const int StatxNlinkOffset = 16;

    // macOS: proc_pidfdinfo(PROC_PIDFDVNODEPATHINFO) fills a struct vnode_fdinfowithpath: a proc_fileinfo (24 bytes),
    // then a vnode_info whose vinfo_stat starts with vst_dev (uint32), vst_mode (uint16), vst_nlink (uint16), then the
    // path (MAXPATHLEN bytes) at offset 176. Not fcntl(F_GETPATH): fcntl is variadic, and variadic arguments travel on
    // the stack on Apple arm64, where a P/Invoke would pass them in registers.
    private const int ProcPidFdVnodePathInfo = 2;
    private const int VnodeFdInfoWithPathSize = 1200;
    private const int VnodeNlinkOffset = 24 + 6;
    private const int VnodePathOffset = 176;

    // open(2) flags: read-only, close-on-exec (so the descriptor is not inherited by a child process).
    private const int OpenReadOnlyCloseOnExecLinux = 0x80000;
    private const int OpenReadOnlyCloseOnExecApple = 0x1000000;

    // Windows.
    private const uint FileNameNormalized = 0x0;
    private const int ByHandleFileInformationSize = 52;
    private const int NumberOfLinksOffset = 40;
    private const uint FileReadAttributes = 0x80;
    private const uint FileShareAll = 0x7;
    private const uint OpenExisting = 3;
    private const uint FileFlagBackupSemantics = 0x02000000;

    /// <summary>
    /// Returns the absolute path the handle really names (every link resolved), or <see langword="null"/> when the
    /// platform cannot say (no <c>/proc</c>, an unsupported operating system): callers then refuse the handle.
    /// </summary>
    public static string? FinalPath(SafeFileHandle handle)
    {
        if (OperatingSystem.IsLinux())
        {
            return WithDescriptor(handle, static fd =>
            {
                try
                {
                    return new FileInfo("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget;
                }
                catch (IOException)
                {
                    return null;
                }
            });
        }

        if (OperatingSystem.IsMacOS())
        {
            var info = MacVnodeInfo(handle);
            if (info is null)
            {
                return null;
            }

            var path = info.AsSpan(VnodePathOffset);
            var length = path.IndexOf((byte)0);
            return Encoding.UTF8.GetString(length < 0 ? path : path[..length]);
        }

        if (OperatingSystem.IsWindows())
        {
            return WindowsFinalPath(handle);
        }

        return null;
    }

    /// <summary>
    /// Returns how many hard links the handle's file has, or <see langword="null"/> when the platform cannot say
    /// (a C library without <c>statx</c>, an unsupported operating system): callers then refuse the handle unless hard
    /// links are allowed.
    /// </summary>
    public static long? LinkCount(SafeFileHandle handle)
    {
        if (OperatingSystem.IsLinux())
        {
            return WithDescriptor(handle, static fd =>
            {
                var buffer = new byte[StatxSize];
                try
                {
                    return Statx(fd, "", AtEmptyPath, StatxNlink, buffer) == 0
                        ? MemoryMarshal.Read<uint>(buffer.AsSpan(StatxNlinkOffset))
                        : (long?)null;
                }
                catch (EntryPointNotFoundException)
                {
                    return null;
                }
            });
        }

        if (OperatingSystem.IsMacOS())
        {
            return MacVnodeInfo(handle) is { } info ? MemoryMarshal.Read<ushort>(info.AsSpan(VnodeNlinkOffset)) : null;
        }

        if (OperatingSystem.IsWindows())
        {
            var buffer = new byte[ByHandleFileInformationSize];
            return GetFileInformationByHandle(handle, buffer) ? MemoryMarshal.Read<uint>(buffer.AsSpan(NumberOfLinksOffset)) : null;
        }

        return null;
    }

    /// <summary>
    /// Windows only: the final path of a directory (8.3 short names expanded, junctions and links resolved), or
    /// <see langword="null"/> when it cannot be opened. The containment check compares two final paths.
    /// </summary>
    public static string? WindowsFinalDirectoryPath(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            return null;
        }

        using var handle = CreateFile(directory, FileReadAttributes, FileShareAll, IntPtr.Zero, OpenExisting, FileFlagBackupSemantics, IntPtr.Zero);
        return handle.IsInvalid ? null : WindowsFinalPath(handle);
    }

    /// <summary>
    /// Unix only: opens a folder (or whatever the path names) as a descriptor for <see cref="RenameAt"/>, or returns
    /// <see langword="null"/> with the error number when it cannot be opened. <c>open</c> is called with two arguments
    /// only: without <c>O_CREAT</c> its variadic mode is never read, so the call is right on every ABI.
    /// </summary>
    public static SafeFileHandle? OpenDirectory(string path, out int error)
    {
        var flags = OperatingSystem.IsLinux() ? OpenReadOnlyCloseOnExecLinux : OpenReadOnlyCloseOnExecApple;
        var fd = Open(path, flags);
        error = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Unix only: renames <paramref name="oldName"/> to <paramref name="newName"/>, both single names inside the folder
    /// <paramref name="directory"/> is open on (<c>renameat</c>), so no link on the way to the folder is followed
    /// again. Returns 0, or the error number.
    /// </summary>
    public static int RenameAt(SafeFileHandle directory, string oldName, string newName) =>
        WithDescriptor(directory, fd => Renameat(fd, oldName, fd, newName) == 0 ? 0 : Marshal.GetLastPInvokeError());

    /// <summary>Unix only: removes the file <paramref name="name"/> from the folder <paramref name="directory"/> is open on (<c>unlinkat</c>).</summary>
    public static void UnlinkAt(SafeFileHandle directory, string name) => WithDescriptor(directory, fd => Unlinkat(fd, name, 0));

    private static T WithDescriptor<T>(SafeFileHandle handle, Func<int, T> action)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return action((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static byte[]? MacVnodeInfo(SafeFileHandle handle) => WithDescriptor(handle, static fd =>
    {
        var buffer = new byte[VnodeFdInfoWithPathSize];
        return ProcPidFdInfo(Environment.ProcessId, fd, ProcPidFdVnodePathInfo, buffer, buffer.Length) == buffer.Length ? buffer : null;
    });

    private static string? WindowsFinalPath(SafeFileHandle handle)
    {
        // The buffer holds UTF-16 code units as bytes (a char[] would need runtime marshalling); lengths are in chars.
        var capacity = 1024u;
        var buffer = new byte[capacity * 2];
        var length = GetFinalPathNameByHandle(handle, buffer, capacity, FileNameNormalized);
        if (length > capacity)
        {
            capacity = length;
            buffer = new byte[capacity * 2];
            length = GetFinalPathNameByHandle(handle, buffer, capacity, FileNameNormalized);
        }

        if (length == 0 || length > capacity)
        {
            return null;
        }

        var path = Encoding.Unicode.GetString(buffer, 0, (int)length * 2);
        return path.StartsWith(@"\\?\UNC\", StringComparison.OrdinalIgnoreCase) ? @"\\" + path[8..]
            : path.StartsWith(@"\\?\", StringComparison.Ordinal) ? path[4..]
            : path;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string pathname, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "renameat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Renameat(int oldDirectory, string oldName, int newDirectory, string newName);

    [LibraryImport("libc", EntryPoint = "unlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Unlinkat(int directory, string name, int flags);

    [LibraryImport("libproc", EntryPoint = "proc_pidfdinfo", SetLastError = true)]
    private static partial int ProcPidFdInfo(int pid, int fd, int flavor, [Out] byte[] buffer, int size);

    [LibraryImport("kernel32.dll", EntryPoint = "GetFinalPathNameByHandleW", SetLastError = true)]
    private static partial uint GetFinalPathNameByHandle(SafeFileHandle file, [Out] byte[] path, uint length, uint flags);

    [LibraryImport("kernel32.dll", EntryPoint = "GetFileInformationByHandle", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetFileInformationByHandle(SafeFileHandle file, [Out] byte[] information);

    [LibraryImport("kernel32.dll", EntryPoint = "CreateFileW", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    private static partial SafeFileHandle CreateFile(string name, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);
}
