using System.Reflection;
using Xunit.Sdk;

namespace Compose.Integration.Tests;

/// <summary><see cref="SafePath"/>: an attack corpus, legitimate names, and real symbolic links in a temp folder.</summary>
public sealed class SafePathTests : IDisposable
{
    private const string Ten = "aaaaaaaaaa";
    private const string Hundred = Ten + Ten + Ten + Ten + Ten + Ten + Ten + Ten + Ten + Ten;
    private const string ElevenHundred = Hundred + Hundred + Hundred + Hundred + Hundred + Hundred + Hundred + Hundred + Hundred + Hundred + Hundred;
    private const string Up = "../../../../../../../../../../";
    private const string LongTraversal = Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + Up + "etc/passwd";

    // base/
    //   root/        the folder under test
    //   root-evil/   a sibling whose name starts with the root's
    //   outside/     anything else on the machine
    private readonly string _base;
    private readonly string _root;
    private readonly string _outside;
    private readonly string _sibling;

    public SafePathTests()
    {
        _base = Path.Combine(Path.GetTempPath(), "compose-safepath-" + Guid.NewGuid().ToString("N"));
        _root = Directory.CreateDirectory(Path.Combine(_base, "root")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_base, "outside")).FullName;
        _sibling = Directory.CreateDirectory(Path.Combine(_base, "root-evil")).FullName;
        File.WriteAllText(Path.Combine(_outside, "secret.txt"), "secret");
        File.WriteAllText(Path.Combine(_sibling, "secret.txt"), "secret");
    }

    public void Dispose()
    {
        // Recursive deletion removes links, not what they point to; everything they point to is under _base anyway.
        if (Directory.Exists(_base))
        {
            Directory.Delete(_base, recursive: true);
        }
    }

    [Theory]
    // The seed's example, and plain traversal.
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("../secret.txt")]
    [InlineData("../outside/secret.txt")]
    [InlineData("a/../../outside/secret.txt")]
    [InlineData("a/b/../../../x")]
    [InlineData(LongTraversal)]
    // Sibling prefix: "/base/root-evil" starts with "/base/root".
    [InlineData("../root-evil/secret.txt")]
    [InlineData("../root-evil")]
    // Dot segments, even harmless-looking ones, and the root itself.
    [InlineData(".")]
    [InlineData("./x")]
    [InlineData("a/./b")]
    [InlineData("a/..")]
    [InlineData("...")]
    [InlineData("a/.../b")]
    [InlineData("")]
    [InlineData("   ")]
    // Empty segments.
    [InlineData("a//b")]
    [InlineData("a/")]
    // Absolute and rooted paths.
    [InlineData("/etc/passwd")]
    [InlineData("/")]
    [InlineData("//server/share/x")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("C:/Windows/win.ini")]
    [InlineData("C:x")]
    [InlineData("\\\\server\\share\\x")]
    [InlineData("\\\\?\\C:\\x")]
    // Backslashes.
    [InlineData("..\\..\\etc\\passwd")]
    [InlineData("..\\secret.txt")]
    [InlineData("a\\b.txt")]
    [InlineData("a/..\\..\\x")]
    // Percent-encoded traversal: single, mixed case, partial, double, triple, quadruple.
    [InlineData("%2e%2e%2fetc%2fpasswd")]
    [InlineData("%2E%2E%2Fetc%2Fpasswd")]
    [InlineData("%2e%2E/secret.txt")]
    [InlineData("..%2fsecret.txt")]
    [InlineData("%2e%2e/secret.txt")]
    [InlineData("a%2f..%2f..%2fx")]
    [InlineData("%252e%252e%252fetc%252fpasswd")]
    [InlineData("%25252e%25252e%25252f")]
    [InlineData("%2525252e%2525252e")]
    [InlineData("..%255c..%255cx")]
    [InlineData("..%5c..%5cwindows")]
    [InlineData("file%2etxt")]
    // Overlong and otherwise invalid UTF-8.
    [InlineData("%c0%ae%c0%ae/secret.txt")]
    [InlineData("%c0%ae%c0%ae%c0%af")]
    [InlineData("%e0%80%ae%e0%80%ae/x")]
    [InlineData("%f0%80%80%ae")]
    [InlineData("%c0%2e")]
    [InlineData("%ed%a0%80.txt")]
    [InlineData("%c3")]
    // Malformed escapes.
    [InlineData("100%.txt")]
    [InlineData("a%zz")]
    [InlineData("a%2")]
    [InlineData("%%32%65%%32%65")]
    [InlineData("%u002e%u002e/x")]
    // NUL and other control characters, raw and encoded.
    [InlineData("a\0b")]
    [InlineData("secret.txt\0.png")]
    [InlineData("a%00b")]
    [InlineData("a\nb")]
    [InlineData("a\tb")]
    [InlineData("a%0d%0aSet-Cookie")]
    [InlineData("\u007f")]
    [InlineData("a\u0085b")]
    // Segments Windows trims.
    [InlineData("secret.txt.")]
    [InlineData("secret.txt ")]
    [InlineData("dir./x")]
    [InlineData("dir /x")]
    [InlineData("a%20")]
    [InlineData("%20")]
    // Windows device names, reserved characters and NTFS streams.
    [InlineData("CON")]
    [InlineData("nul.txt")]
    [InlineData("aux/x.json")]
    [InlineData("Com1")]
    [InlineData("LPT9.log")]
    [InlineData("conout$")]
    [InlineData("COM\u00B9")]
    [InlineData("C%4fN")]
    [InlineData("secret.txt::$DATA")]
    [InlineData("a*b")]
    [InlineData("a?b")]
    [InlineData("a|b")]
    [InlineData("<a>")]
    [InlineData("a\"b")]
    // Unicode that NFKC normalisation turns into dots and separators; unpaired surrogates.
    [InlineData("\uFF0E\uFF0E\uFF0Fsecret.txt")]
    [InlineData("\u2025/secret.txt")]
    [InlineData("a\uFF3Cb")]
    [InlineData("\u2100")]
    [InlineData("a\uFF1Ab")]
    // Overlong input.
    [InlineData(ElevenHundred)]
    public void AttackIsRejected(string input)
    {
        Assert.False(SafePath.TryResolve(_root, input, out var fullPath));
        Assert.Null(fullPath);

        var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, input));
        Assert.Contains("was rejected: ", exception.Message, StringComparison.Ordinal);
        Assert.True(exception.Message.Length < 400, exception.Message);
        Assert.DoesNotContain("\0", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttackCorpusHasAtLeastFortyDistinctInputs()
    {
        var inputs = typeof(SafePathTests).GetMethod(nameof(AttackIsRejected))!
            .GetCustomAttributes<InlineDataAttribute>()
            .Select(a => (string)a.GetData(null!).Single()[0])
            .ToList();

        Assert.Equal(inputs.Count, inputs.Distinct(StringComparer.Ordinal).Count());
        Assert.True(inputs.Count >= 40, $"{inputs.Count} inputs");
    }

    [Theory]
    [InlineData("notes/today.md", "notes", "today.md")]
    [InlineData("a/b/c.txt", "a", "b", "c.txt")]
    [InlineData("file.with.dots.json", "file.with.dots.json")]
    [InlineData("über.txt", "über.txt")]
    [InlineData("日本語/ファイル.txt", "日本語", "ファイル.txt")]
    [InlineData("my notes/first draft.md", "my notes", "first draft.md")]
    [InlineData("a-b_c (1).txt", "a-b_c (1).txt")]
    [InlineData("config.json.example", "config.json.example")]
    [InlineData(".gitignore", ".gitignore")]
    [InlineData("..hidden", "..hidden")]
    [InlineData("~", "~")]
    [InlineData("~/notes.md", "~", "notes.md")]
    [InlineData("x", "x")]
    [InlineData("CONFIG.json", "CONFIG.json")]
    [InlineData("console.log", "console.log")]
    [InlineData("nul-terminated.txt", "nul-terminated.txt")]
    [InlineData("emoji-\U0001F600.txt", "emoji-\U0001F600.txt")]
    // Escapes are vetted, not applied: the name stays literal (decoding it again would be double decoding).
    [InlineData("my%20file.txt", "my%20file.txt")]
    [InlineData("%c3%bcber.txt", "%c3%bcber.txt")]
    [InlineData("%e6%97%a5.txt", "%e6%97%a5.txt")]
    public void LegitimateInputResolvesUnderRoot(string input, params string[] expectedSegments)
    {
        var expected = Path.Combine([_root, .. expectedSegments]);

        Assert.Equal(expected, SafePath.Resolve(_root, input));
        Assert.True(SafePath.TryResolve(_root, input, out var fullPath));
        Assert.Equal(expected, fullPath);
    }

    [Fact]
    public void InputAtTheLengthLimitIsAcceptedAndOneMoreIsNot()
    {
        var segment = new string('a', 99) + "/";
        var atLimit = string.Concat(Enumerable.Repeat(segment, 10)) + new string('b', 24);
        Assert.Equal(SafePath.MaxRelativePathLength, atLimit.Length);

        Assert.True(SafePath.TryResolve(_root, atLimit, out _));
        Assert.False(SafePath.TryResolve(_root, atLimit + "b", out _));
    }

    [Fact]
    public void RejectionMessageNamesTheInputButEchoesAtMostAHundredCharacters()
    {
        var input = "../" + new string('x', 147) + "MARKER" + new string('y', 5000);

        var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, input));

        Assert.StartsWith("The path '../xxx", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("MARKER", exception.Message, StringComparison.Ordinal);
        Assert.Contains("5156 characters", exception.Message, StringComparison.Ordinal);
        Assert.True(exception.Message.Length < 300, exception.Message);
    }

    [Fact]
    public void RejectionMessageSaysWhyAndEscapesControlCharacters()
    {
        var traversal = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, "../../etc/passwd"));
        Assert.Equal("The path '../../etc/passwd' was rejected: it has a '..' segment, which leaves the folder.", traversal.Message);

        var nul = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, "a\0b"));
        Assert.Equal("The path 'a\\u0000b' was rejected: it contains the control character U+0000.", nul.Message);

        var encoded = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, "%252e%252e%252f"));
        Assert.Contains("percent-encodes '.'", encoded.Message, StringComparison.Ordinal);

        var overlong = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, "%c0%ae%c0%ae/x"));
        Assert.Contains("not valid UTF-8", overlong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnpairedSurrogatesAreRejected()
    {
        // Not in the corpus: the test runner's serialisation would replace them with U+FFFD.
        foreach (var input in new[] { "a\uD800b", "a\uDC00", "\uD800" })
        {
            var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, input));
            Assert.Contains("unpaired surrogate", exception.Message, StringComparison.Ordinal);
            Assert.Contains("\\uD", exception.Message, StringComparison.Ordinal);
        }

        Assert.True(SafePath.TryResolve(_root, "\uD83D\uDE00.txt", out _));
    }

    [Fact]
    public void NullInput()
    {
        Assert.Throws<ArgumentNullException>(() => SafePath.Resolve(_root, null!));
        Assert.False(SafePath.TryResolve(_root, null, out var fullPath));
        Assert.Null(fullPath);
        Assert.Throws<ArgumentNullException>(() => SafePath.Resolve(null!, "a.txt"));
        Assert.Throws<ArgumentNullException>(() => SafePath.TryResolve(null!, "a.txt", out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative/root")]
    [InlineData("./root")]
    [InlineData("~/root")]
    public void RootMustBeAbsolute(string root)
    {
        Assert.Throws<ArgumentException>(() => SafePath.Resolve(root, "a.txt"));
        Assert.Throws<ArgumentException>(() => SafePath.TryResolve(root, "a.txt", out _));
    }

    [Fact]
    public void RootIsNormalisedAndNeedNotExist()
    {
        Assert.Equal(Path.Combine(_root, "a.txt"), SafePath.Resolve(_root + Path.DirectorySeparatorChar, "a.txt"));
        Assert.Equal(Path.Combine(_root, "a.txt"), SafePath.Resolve(Path.Combine(_outside, "..", "root"), "a.txt"));

        var missing = Path.Combine(_base, "missing", "deeper");
        Assert.Equal(Path.Combine(missing, "x", "y.txt"), SafePath.Resolve(missing, "x/y.txt"));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void FileSystemRootAsRoot()
    {
        var fsRoot = Path.GetPathRoot(_root)!;
        var name = "compose-safepath-missing-" + Guid.NewGuid().ToString("N");

        Assert.Equal(fsRoot + name + Path.DirectorySeparatorChar + "x.txt", SafePath.Resolve(fsRoot, name + "/x.txt"));
        Assert.False(SafePath.TryResolve(fsRoot, "../x.txt", out _));
    }

    [Fact]
    public void LinkInsideRootPointingOutsideIsRejected()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "out"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "out-relative"), Path.Combine("..", "outside"));
        File.CreateSymbolicLink(Path.Combine(_root, "passwd"), Path.Combine(_outside, "secret.txt"));

        foreach (var input in new[] { "out", "out/secret.txt", "out/new/file.txt", "out-relative/secret.txt", "passwd" })
        {
            Assert.False(SafePath.TryResolve(_root, input, out _), input);
            var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, input));
            Assert.Contains("symbolic link that leads outside the root", exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LinkToTheSiblingWithTheSamePrefixIsRejected()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "evil"), _sibling);

        Assert.False(SafePath.TryResolve(_root, "evil/secret.txt", out _));
    }

    [Fact]
    public void DanglingLinkPointingOutsideIsRejected()
    {
        // Writing through it would create the file outside.
        var target = Path.Combine(_outside, "created-through-link.txt");
        File.CreateSymbolicLink(Path.Combine(_root, "dangling"), target);

        Assert.False(SafePath.TryResolve(_root, "dangling", out _));
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void ChainOfLinksIsJudgedByItsFinalTarget()
    {
        Directory.CreateDirectory(Path.Combine(_root, "shared"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "hop2-out"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "hop1-out"), Path.Combine(_root, "hop2-out"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "hop2-in"), "shared");
        Directory.CreateSymbolicLink(Path.Combine(_root, "hop1-in"), Path.Combine(_root, "hop2-in"));
        // Out of the root and back in: the operating system ends up inside, so it is accepted.
        Directory.CreateSymbolicLink(Path.Combine(_outside, "back"), Path.Combine(_root, "shared"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "away"), Path.Combine(_outside, "back"));

        Assert.False(SafePath.TryResolve(_root, "hop1-out/secret.txt", out _));
        Assert.Equal(Path.Combine(_root, "hop1-in", "x.txt"), SafePath.Resolve(_root, "hop1-in/x.txt"));
        Assert.Equal(Path.Combine(_root, "away", "x.txt"), SafePath.Resolve(_root, "away/x.txt"));
    }

    [Fact]
    public void RelativeLinkTargetsAreFollowedFromTheRealFolder()
    {
        // root/s/a -> ../d (that is root/d, one level higher than the link), and root/d/b -> ../../outside.
        // Spelled out, "s/a/b" -> root/s/a/../../outside = root/outside, inside. The kernel resolves ".." from
        // the real folder root/d, so it reaches base/outside: outside the root.
        Directory.CreateDirectory(Path.Combine(_root, "s"));
        Directory.CreateDirectory(Path.Combine(_root, "d"));
        Directory.CreateDirectory(Path.Combine(_root, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "s", "a"), Path.Combine("..", "d"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "d", "b"), Path.Combine("..", "..", "outside"));

        Assert.True(File.Exists(Path.Combine(_root, "s", "a", "b", "secret.txt")), "the kernel reaches base/outside");
        Assert.False(SafePath.TryResolve(_root, "s/a/b/secret.txt", out _));
    }

    [Fact]
    public void LinkInsideRootPointingInsideIsAccepted()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_root, "shared")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_root, "alias"), shared);
        Directory.CreateSymbolicLink(Path.Combine(_root, "alias-relative"), "shared");
        File.WriteAllText(Path.Combine(shared, "data.txt"), "data");
        File.CreateSymbolicLink(Path.Combine(_root, "data-link"), Path.Combine("shared", "data.txt"));

        Assert.Equal(Path.Combine(_root, "alias", "data.txt"), SafePath.Resolve(_root, "alias/data.txt"));
        Assert.Equal(Path.Combine(_root, "alias-relative", "new.txt"), SafePath.Resolve(_root, "alias-relative/new.txt"));
        Assert.Equal("data", File.ReadAllText(SafePath.Resolve(_root, "data-link")));

        File.WriteAllText(SafePath.Resolve(_root, "alias/created.txt"), "created");
        Assert.Equal("created", File.ReadAllText(Path.Combine(shared, "created.txt")));
    }

    [Fact]
    public void LinkToTheRootItselfIsNotATargetButMayBeGoneThrough()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "self"), _root);

        Assert.False(SafePath.TryResolve(_root, "self", out _));
        Assert.Equal(Path.Combine(_root, "self", "x.txt"), SafePath.Resolve(_root, "self/x.txt"));
    }

    [Fact]
    public void LinkLoopIsRejected()
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "loop1"), Path.Combine(_root, "loop2"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "loop2"), "loop1");

        Assert.False(SafePath.TryResolve(_root, "loop1/x.txt", out _));
        var exception = Assert.Throws<UnauthorizedAccessException>(() => SafePath.Resolve(_root, "loop1/x.txt"));
        Assert.Contains("symbolic link loop", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RootThatIsItselfALinkWorks()
    {
        var rootLink = Path.Combine(_base, "root-link");
        Directory.CreateSymbolicLink(rootLink, _root);
        Directory.CreateDirectory(Path.Combine(_root, "shared"));
        // Targets spelled with the real root are inside; the root link's spelling is inside too.
        Directory.CreateSymbolicLink(Path.Combine(_root, "real-alias"), Path.Combine(_root, "shared"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "link-alias"), Path.Combine(rootLink, "shared"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "out"), _outside);

        var resolved = SafePath.Resolve(rootLink, "notes/a.txt");
        Assert.Equal(Path.Combine(rootLink, "notes", "a.txt"), resolved);
        Assert.Equal(Path.Combine(rootLink, "real-alias", "x"), SafePath.Resolve(rootLink, "real-alias/x"));
        Assert.Equal(Path.Combine(rootLink, "link-alias", "x"), SafePath.Resolve(rootLink, "link-alias/x"));
        Assert.False(SafePath.TryResolve(rootLink, "out/secret.txt", out _));
        Assert.False(SafePath.TryResolve(rootLink, "../outside/secret.txt", out _));

        Directory.CreateDirectory(Path.GetDirectoryName(resolved)!);
        File.WriteAllText(resolved, "note");
        Assert.Equal("note", File.ReadAllText(Path.Combine(_root, "notes", "a.txt")));
    }

    [Fact]
    public void RootWhoseParentIsALinkWorks()
    {
        var baseLink = Path.Combine(Path.GetTempPath(), "compose-safepath-link-" + Guid.NewGuid().ToString("N"));
        Directory.CreateSymbolicLink(baseLink, _base);
        try
        {
            var root = Path.Combine(baseLink, "root");
            Directory.CreateSymbolicLink(Path.Combine(_root, "out"), _outside);
            Directory.CreateSymbolicLink(Path.Combine(_root, "in"), _root);

            Assert.Equal(Path.Combine(root, "in", "x.txt"), SafePath.Resolve(root, "in/x.txt"));
            Assert.False(SafePath.TryResolve(root, "out/secret.txt", out _));
        }
        finally
        {
            Directory.Delete(baseLink);
        }
    }

    [Fact]
    public void FileCreatedThroughTheResolvedPathEndsUpInsideRoot()
    {
        var resolved = SafePath.Resolve(_root, "new/dir/file.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(resolved)!);
        File.WriteAllText(resolved, "content");

        var created = Assert.Single(Directory.GetFiles(_base, "*", SearchOption.AllDirectories), f => f.EndsWith("file.txt", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(_root, "new", "dir", "file.txt"), created);
        Assert.StartsWith(_root + Path.DirectorySeparatorChar, created, StringComparison.Ordinal);
    }
}
