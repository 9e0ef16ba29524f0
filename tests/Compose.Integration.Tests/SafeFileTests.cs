using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Xunit.Abstractions;

namespace Compose.Integration.Tests;

/// <summary>A fact that needs Unix: symbolic links without privileges, file modes, <c>ln</c> for hard links.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file modes, links and ln";
        }
    }
}

/// <summary>A fact that needs Linux: <c>renameat2(RENAME_EXCHANGE)</c> swaps a folder and a link atomically.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "renameat2(RENAME_EXCHANGE) is Linux's";
        }
    }
}

/// <summary>
/// <see cref="SafePath.OpenRead"/>, <see cref="SafePath.OpenWrite"/> and <see cref="SafePath.WriteAllBytesAtomic"/>:
/// the after-open check, hard links, modes, and a directory raced into a symbolic link.
/// </summary>
public sealed class SafeFileTests(ITestOutputHelper output) : IDisposable
{
    // How many raced tries each phase makes at most, and how long it may take. The figures in the SafePath docs come
    // from COMPOSE_RACE_TRIES=200000 (the number the issue measured with), which also lifts the time bound to 120 s.
    private static readonly int s_maxRacedTries = int.TryParse(Environment.GetEnvironmentVariable("COMPOSE_RACE_TRIES"), out var tries) && tries > 0 ? tries : 50_000;
    private static readonly TimeSpan s_racePhaseLimit = TimeSpan.FromSeconds(s_maxRacedTries > 50_000 ? 120 : 15);

    private const string Inside = "inside";
    private const string Secret = "SECRET outside the root";

    // base/root is the folder under test; base/outside is anything else on the machine.
    private readonly string _base = Path.Combine(Path.GetTempPath(), "compose-safefile-" + Guid.NewGuid().ToString("N"));

    private string Root => Path.Combine(_base, "root");

    private string Outside => Path.Combine(_base, "outside");

    public void Dispose()
    {
        if (Directory.Exists(_base))
        {
            Directory.Delete(_base, recursive: true);
        }
    }

    [Fact]
    public void OpenReadReadsAFileUnderTheRoot()
    {
        Directory.CreateDirectory(Path.Combine(Root, "notes"));
        File.WriteAllText(Path.Combine(Root, "notes", "today.md"), "# hello");

        using var stream = SafePath.OpenRead(Root, "notes/today.md");
        using var reader = new StreamReader(stream);
        Assert.Equal("# hello", reader.ReadToEnd());
        Assert.False(stream.CanWrite);
    }

    [Fact]
    public void OpenReadAppliesTheRulesOfResolve()
    {
        CreateLayout();

        Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenRead(Root, "../outside/secret.txt"));
        Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenRead(Root, "a\\b"));
        Assert.Throws<ArgumentNullException>(() => SafePath.OpenRead(Root, null!));
        Assert.Throws<ArgumentException>(() => SafePath.OpenRead("relative/root", "x"));
        Assert.Throws<FileNotFoundException>(() => SafePath.OpenRead(Root, "missing.txt"));
        Assert.Throws<DirectoryNotFoundException>(() => SafePath.OpenRead(Root, "missing/file.txt"));
    }

    [UnixFact]
    public void ALinkToAFileOutsideIsRefused()
    {
        CreateLayout();
        File.CreateSymbolicLink(Path.Combine(Root, "passwd"), Path.Combine(Outside, "secret.txt"));

        var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenRead(Root, "passwd"));
        Assert.Contains("outside the root", exception.Message, StringComparison.Ordinal);
    }

    [UnixFact]
    public void AHardLinkedFileIsRefusedUnlessAllowed()
    {
        CreateLayout();
        var outsideFile = Path.Combine(Outside, "secret.txt");
        HardLink(outsideFile, Path.Combine(Root, "linked.txt"));

        var read = Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenRead(Root, "linked.txt"));
        Assert.Contains("2 hard links", read.Message, StringComparison.Ordinal);
        var write = Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenWrite(Root, "linked.txt"));
        Assert.Contains("2 hard links", write.Message, StringComparison.Ordinal);
        Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenWrite(Root, "linked.txt", FileMode.Append));
        Assert.Equal(Secret, File.ReadAllText(outsideFile)); // Refused before truncation.

        using (var stream = SafePath.OpenRead(Root, "linked.txt", allowHardLinks: true))
        using (var reader = new StreamReader(stream))
        {
            Assert.Equal(Secret, reader.ReadToEnd());
        }

        // The atomic write replaces the directory entry: the other name keeps its content.
        SafePath.WriteAllBytesAtomic(Root, "linked.txt", "replaced"u8);
        Assert.Equal("replaced", File.ReadAllText(Path.Combine(Root, "linked.txt")));
        Assert.Equal(Secret, File.ReadAllText(outsideFile));
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public void CreatedFilesAndFoldersAreOwnerOnly()
    {
        Directory.CreateDirectory(Root);

        using (var stream = SafePath.OpenWrite(Root, "a/b/new.txt"))
        {
            stream.Write("x"u8);
        }

        SafePath.WriteAllBytesAtomic(Root, "c/atomic.json", "{}"u8);

        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(Path.Combine(Root, "a", "b", "new.txt")));
        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(Path.Combine(Root, "c", "atomic.json")));
        foreach (var folder in new[] { "a", "a/b", "c" })
        {
            Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(Path.Combine(Root, folder)));
        }

        // An existing file keeps its mode.
        var shared = Path.Combine(Root, "shared.txt");
        File.WriteAllText(shared, "old");
        File.SetUnixFileMode(shared, SafePath.OwnerOnlyFileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using (var stream = SafePath.OpenWrite(Root, "shared.txt"))
        {
            stream.Write("new"u8);
        }

        Assert.Equal(SafePath.OwnerOnlyFileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(shared));
    }

    [Fact]
    public void OpenWriteModes()
    {
        Directory.CreateDirectory(Root);
        var path = Path.Combine(Root, "file.txt");

        Write(FileMode.CreateNew, "first");
        Assert.Equal("first", File.ReadAllText(path));
        Assert.Throws<IOException>(() => Write(FileMode.CreateNew, "again"));

        Write(FileMode.Create, "2");
        Assert.Equal("2", File.ReadAllText(path));

        Write(FileMode.Append, "3");
        Assert.Equal("23", File.ReadAllText(path));

        Write(FileMode.OpenOrCreate, "x");
        Assert.Equal("x3", File.ReadAllText(path));

        Write(FileMode.Open, "y");
        Assert.Equal("y3", File.ReadAllText(path));

        Write(FileMode.Truncate, "z");
        Assert.Equal("z", File.ReadAllText(path));

        Assert.Throws<FileNotFoundException>(() => SafePath.OpenWrite(Root, "absent.txt", FileMode.Open));
        Assert.Throws<FileNotFoundException>(() => SafePath.OpenWrite(Root, "absent.txt", FileMode.Truncate));
        Assert.False(File.Exists(Path.Combine(Root, "absent.txt")));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafePath.OpenWrite(Root, "file.txt", (FileMode)42));
        Assert.Throws<UnauthorizedAccessException>(() => SafePath.OpenWrite(Root, "../escape.txt"));
        Assert.False(File.Exists(Path.Combine(_base, "escape.txt")));

        void Write(FileMode mode, string text)
        {
            using var stream = SafePath.OpenWrite(Root, "file.txt", mode);
            Assert.False(stream.CanRead);
            stream.Write(Encoding.UTF8.GetBytes(text));
        }
    }

    [Fact]
    public async Task AtomicWriteReplacesTheFileAndLeavesNoTemporaryFile()
    {
        Directory.CreateDirectory(Root);

        SafePath.WriteAllBytesAtomic(Root, "config.json", "{\"v\":1}"u8);
        await SafePath.WriteAllBytesAtomicAsync(Root, "config.json", "{\"v\":2}"u8.ToArray());

        Assert.Equal("{\"v\":2}", File.ReadAllText(Path.Combine(Root, "config.json")));
        Assert.Equal(["config.json"], Directory.GetFiles(Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task CancelledAtomicWriteLeavesTheTargetAndNoTemporaryFile()
    {
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "config.json"), "old");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => SafePath.WriteAllBytesAtomicAsync(Root, "config.json", "new"u8.ToArray(), cancelled.Token));

        Assert.Equal("old", File.ReadAllText(Path.Combine(Root, "config.json")));
        Assert.Equal(["config.json"], Directory.GetFiles(Root).Select(Path.GetFileName));
    }

    [Fact]
    public void AtomicWriteOverAFolderFailsAndLeavesNoTemporaryFile()
    {
        Directory.CreateDirectory(Path.Combine(Root, "taken"));

        Assert.ThrowsAny<IOException>(() => SafePath.WriteAllBytesAtomic(Root, "taken", "x"u8));
        Assert.Empty(Directory.GetFiles(Root));
        Assert.Throws<UnauthorizedAccessException>(() => SafePath.WriteAllBytesAtomic(Root, "../x", "x"u8));
    }

    /// <summary>
    /// The documented time-of-check/time-of-use gap: another thread keeps swapping <c>root/dir</c> for a symbolic
    /// link to <c>outside</c>. <see cref="SafePath.Resolve"/> followed by <see cref="File.ReadAllText(string)"/> reads
    /// outside the root now and then; <see cref="SafePath.OpenRead"/> never does.
    /// </summary>
    [LinuxFact]
    public void RacedReadsNeverReachOutsideTheRoot()
    {
        CreateRacedLayout();
        File.WriteAllText(Path.Combine(Root, "dir", "file.txt"), Inside);
        File.WriteAllText(Path.Combine(Outside, "file.txt"), Secret);

        var before = Race(() =>
        {
            var path = SafePath.Resolve(Root, "dir/file.txt");
            return File.ReadAllText(path);
        });
        var after = Race(() =>
        {
            using var stream = SafePath.OpenRead(Root, "dir/file.txt");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });

        output.WriteLine($"Resolve + File.ReadAllText: {before}");
        output.WriteLine($"SafePath.OpenRead:          {after}");
        Assert.Equal(0, after.Outside);
        Assert.True(after.Inside > 0, $"The helper never read the file inside: {after}");
        Assert.True(after.RefusedAfterOpen > 0, $"The race never reached the after-open check, so it proved nothing: {after}");
        Assert.True(before.Outside > 0, $"The unprotected read never went outside, so the race proved nothing: {before}");
    }

    /// <summary>The same race for writes: nothing written through the helpers lands outside the root.</summary>
    [LinuxFact]
    public void RacedWritesNeverReachOutsideTheRoot()
    {
        CreateRacedLayout();
        var outsideFile = Path.Combine(Outside, "out.txt");
        File.WriteAllText(outsideFile, Secret);

        var before = Race(() =>
        {
            var path = SafePath.Resolve(Root, "dir/out.txt");
            File.WriteAllText(path, "written");
            if (File.ReadAllText(outsideFile) != Secret)
            {
                File.WriteAllText(outsideFile, Secret);
                return Secret; // Counted as outside.
            }

            return Inside;
        });

        var after = Race(() =>
        {
            using (var stream = SafePath.OpenWrite(Root, "dir/out.txt"))
            {
                stream.Write("written"u8);
            }

            return Inside;
        });
        Assert.Equal(Secret, File.ReadAllText(outsideFile));
        var atomic = Race(() =>
        {
            SafePath.WriteAllBytesAtomic(Root, "dir/out.txt", "written"u8);
            return Inside;
        });

        output.WriteLine($"Resolve + File.WriteAllText: {before}");
        output.WriteLine($"SafePath.OpenWrite:          {after}");
        output.WriteLine($"SafePath.WriteAllBytesAtomic: {atomic}");
        Assert.Equal(Secret, File.ReadAllText(outsideFile));
        var leaked = Directory.GetFiles(Outside).Where(f => new FileInfo(f).Length > 0 && f != outsideFile).ToArray();
        Assert.Empty(leaked);
        Assert.True(after.Inside > 0 && atomic.Inside > 0, $"The helpers never wrote: {after}; {atomic}");
        Assert.True(after.RefusedAfterOpen + atomic.RefusedAfterOpen > 0, $"The race never reached the after-open check: {after}; {atomic}");
        Assert.True(before.Outside > 0, $"The unprotected write never went outside, so the race proved nothing: {before}");
    }

    private void CreateLayout()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "secret.txt"), Secret);
    }

    // root/dir (a real folder) and root/dir.link (a link to outside), which the swapper exchanges atomically.
    private void CreateRacedLayout()
    {
        Directory.CreateDirectory(Path.Combine(Root, "dir"));
        Directory.CreateDirectory(Outside);
        Directory.CreateSymbolicLink(Path.Combine(Root, "dir.link"), Outside);
    }

    // Runs `attempt` while another thread keeps exchanging root/dir and the link (root/dir is always there, as the
    // folder or as the link); bounded by s_maxRacedTries and s_racePhaseLimit. `attempt` returns the content it read
    // (Secret means outside).
    private RaceResult Race(Func<string> attempt)
    {
        var dir = Path.Combine(Root, "dir");
        var link = Path.Combine(Root, "dir.link");
        using var stop = new CancellationTokenSource();
        var swaps = 0L;
        var failure = 0;
        var swapper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (RenameAt2(AtFdCwd, dir, AtFdCwd, link, RenameExchange) != 0)
                {
                    failure = Marshal.GetLastPInvokeError();
                    return;
                }

                swaps++;
            }
        }) { IsBackground = true };

        var result = new RaceResult();
        var stopwatch = Stopwatch.StartNew();
        swapper.Start();
        try
        {
            for (var i = 0; i < s_maxRacedTries && stopwatch.Elapsed < s_racePhaseLimit; i++)
            {
                result.Tries++;
                try
                {
                    var content = attempt();
                    if (content == Secret)
                    {
                        result.Outside++;
                    }
                    else
                    {
                        result.Inside++;
                    }
                }
                catch (UnauthorizedAccessException e) when (e.Message.Contains("outside the root (a link changed", StringComparison.Ordinal))
                {
                    result.RefusedAfterOpen++;
                }
                catch (UnauthorizedAccessException)
                {
                    result.RefusedBeforeOpen++;
                }
                catch (IOException)
                {
                    result.Missing++; // Reached outside where the file does not exist.
                }
            }
        }
        finally
        {
            stop.Cancel();
            swapper.Join();
        }

        Assert.True(failure == 0, $"renameat2 failed with errno {failure}");
        if (swaps % 2 == 1)
        {
            Assert.Equal(0, RenameAt2(AtFdCwd, dir, AtFdCwd, link, RenameExchange)); // Back to the folder.
        }

        result.Swaps = swaps;
        result.Elapsed = stopwatch.Elapsed;
        return result;
    }

    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int RenameAt2(int oldDirectory, [MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, int newDirectory, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath, uint flags);

    private static void HardLink(string existing, string link)
    {
        using var ln = Process.Start(new ProcessStartInfo("ln", [existing, link]) { RedirectStandardError = true })!;
        Assert.True(ln.WaitForExit(TimeSpan.FromSeconds(10)), "ln did not finish");
        Assert.True(ln.ExitCode == 0, ln.StandardError.ReadToEnd());
    }

    private sealed class RaceResult
    {
        public int Tries { get; set; }

        public int Inside { get; set; }

        public int Outside { get; set; }

        public int RefusedBeforeOpen { get; set; }

        public int RefusedAfterOpen { get; set; }

        public int Missing { get; set; }

        public long Swaps { get; set; }

        public TimeSpan Elapsed { get; set; }

        public override string ToString() =>
            $"{Tries} tries in {Elapsed.TotalSeconds:F1} s ({Swaps} swaps): {Inside} inside, {Outside} outside, "
            + $"{RefusedBeforeOpen} refused by the path check, {RefusedAfterOpen} refused after opening, {Missing} not found";
    }
}
