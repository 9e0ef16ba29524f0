using System.Collections.Immutable;
using Compose.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>
/// CMP0008 (router used after an await) and CMP0009 (router outlives InitAsync), judged on the control flow
/// graph. Each rule has cases that must be flagged and similar correct code that must not be.
/// </summary>
public sealed class RouteAnalyzerTests
{
    private const string Members = """
        private IEndpointRouteBuilder? _router;
        private readonly List<IEndpointRouteBuilder> _routers = new();
        private Action? _register;
        public static IEndpointRouteBuilder? Saved { get; set; }
        public event EventHandler? Changed;
        private static readonly string[] Paths = ["/a", "/b"];
        private static async IAsyncEnumerable<string> PathsAsync() { await Task.Yield(); yield return "/c"; }
        private static void Register(IEndpointRouteBuilder r) => r.MapGet("/sync", () => "sync");
        private static async Task RegisterLaterAsync(IEndpointRouteBuilder r) { await Task.Yield(); r.MapGet("/late", () => "late"); }
        private static async Task RegisterThenWaitAsync(IEndpointRouteBuilder r) { r.MapGet("/first", () => "first"); await Task.Yield(); }
        private static void Outer(IEndpointRouteBuilder r) => Inner(r);
        private static void Inner(IEndpointRouteBuilder r) => Register(r);
        private void Keep(IEndpointRouteBuilder r) => _router = r;
        private void OnChanged() => Changed?.Invoke(this, EventArgs.Empty);
        private Holder? _held;
        public bool Held => _held is not null;
        public IEndpointRouteBuilder? Router => _router;
        public int Count => _routers.Count + (_register is null ? 0 : 1);
        """;

    private const string Types = """
        public sealed class Resource : IAsyncDisposable { public ValueTask DisposeAsync() => ValueTask.CompletedTask; }
        public sealed class Holder(IEndpointRouteBuilder router) { public IEndpointRouteBuilder Router { get; } = router; }
        public sealed class Reader(IEndpointRouteBuilder router) { public int Count { get; } = router.DataSources.Count; }
        """;

    public static TheoryData<string, string> Flagged => new()
    {
        // CMP0008: a use of the router, or of an alias of it, on a path reachable after an await.
        { "CMP0008", """router.MapGet("/a", () => "a"); await Task.Yield(); router.MapGet("/b", () => "b");""" },
        { "CMP0008", """await Task.Delay(1, cancellationToken).ConfigureAwait(false); router.MapGet("/b", () => "b");""" },
        { "CMP0008", """var copy = router; await Task.Yield(); copy.MapGet("/b", () => "b");""" },
        { "CMP0008", """var group = router.MapGroup("/g"); await Task.Yield(); group.MapGet("/b", () => "b");""" },
        { "CMP0008", """var builder = router.MapGet("/a", () => "a"); await Task.Yield(); builder.WithName("a");""" },
        { "CMP0008", """foreach (var path in Paths) { router.MapGet(path, () => "x"); await Task.Yield(); }""" },
        { "CMP0008", """await foreach (var path in PathsAsync()) { router.MapGet(path, () => "x"); }""" },
        { "CMP0008", """await using (new Resource()) { router.MapGet("/a", () => "a"); } router.MapGet("/b", () => "b");""" },
        { "CMP0008", """if (cancellationToken.CanBeCanceled) { await Task.Yield(); } router.MapGet("/b", () => "b");""" },
        { "CMP0008", """try { await Task.Yield(); } catch (InvalidOperationException) { router.MapGet("/b", () => "b"); }""" },
        { "CMP0008", """try { router.MapGet("/a", () => "a"); } finally { await Task.Yield(); } router.MapGet("/b", () => "b");""" },
        { "CMP0008", """var i = 0; while (i++ < 3) { if (i == 2) { await Task.Yield(); } router.MapGet("/p" + i, () => "x"); }""" },
        { "CMP0008", """await RegisterLaterAsync(router);""" },
        { "CMP0008", """_ = RegisterLaterAsync(router); await Task.Yield();""" },
        { "CMP0008", """await Task.Yield(); Register(router);""" },
        { "CMP0008", """await Task.Yield(); Array.ForEach(Paths, path => router.MapGet(path, () => "x"));""" },
        { "CMP0008", """void Local() => router.MapGet("/l", () => "l"); await Task.Yield(); Local();""" },
        { "CMP0008", """Array.ForEach(Paths, async path => { await Task.Yield(); router.MapGet(path, () => "x"); });""" },

        // CMP0009: the router captured by code that may run later, or stored where it outlives the call.
        { "CMP0009", """_ = Task.Run(() => router.MapGet("/a", () => "a"));""" },
        { "CMP0009", """_ = Task.Delay(1).ContinueWith(_ => router.MapGet("/a", () => "a"));""" },
        { "CMP0009", """var timer = new Timer(_ => router.MapGet("/a", () => "a"), null, 10, Timeout.Infinite);""" },
        { "CMP0009", """cancellationToken.Register(() => router.MapGet("/a", () => "a"));""" },
        { "CMP0009", """Changed += (_, _) => router.MapGet("/a", () => "a");""" },
        { "CMP0009", """_router = router;""" },
        { "CMP0009", """Saved = router.MapGroup("/g");""" },
        { "CMP0009", """_routers.Add(router);""" },
        { "CMP0009", """_register = () => router.MapGet("/a", () => "a");""" },
        { "CMP0009", """router.MapGet("/count", () => { router.MapGet("/more", () => "more"); return 1; });""" },
        { "CMP0009", """Keep(router);""" },
        { "CMP0009", """_held = new Holder(router);""" },
        { "CMP0009", """Action later = () => router.MapGet("/a", () => "a"); _register = later;""" },
    };

    public static TheoryData<string> Accepted => new()
    {
        """router.MapGet("/a", () => "a"); router.MapPost("/b", () => "b"); await Task.Delay(1, cancellationToken);""",
        """var group = router.MapGroup("/g"); group.MapGet("/a", () => "a").WithName("a"); await Task.Yield();""",
        """await using var resource = new Resource(); router.MapGet("/a", () => "a");""",
        """foreach (var path in Paths) { router.MapGet(path, () => "x"); } await Task.Yield();""",
        """if (cancellationToken.IsCancellationRequested) { router.MapGet("/a", () => "a"); return; } await Task.Yield();""",
        """try { router.MapGet("/a", () => "a"); } finally { Console.WriteLine("done"); } await Task.Yield();""",
        """Register(router); await Task.Yield();""",
        """Outer(router); await Task.Yield();""",
        """var first = RegisterThenWaitAsync(router); await first;""",
        """Array.ForEach(Paths, path => router.MapGet(path, () => "x")); await Task.Yield();""",
        """void Local() => router.MapGet("/l", () => "l"); Local(); await Task.Yield();""",
        """Action register = () => router.MapGet("/a", () => "a"); register(); await Task.Yield();""",
        """router.MapGet("/a", async () => { await Task.Delay(1); return "a"; }); router.MapGet("/b", () => "b");""",
        """router.MapGet("/a", () => "a"); await Task.Yield(); _ = router.ServiceProvider.GetService(typeof(string));""",
        """var reader = new Reader(router); _ = reader; await Task.Yield();""",
        """var holder = new Holder(router); holder.Router.MapGet("/a", () => "a"); await Task.Yield();""",
        """router.MapGet("/count", () => router.DataSources.Count); await Task.Yield();""",
        """var names = new List<string>(); names.Add("x"); router.MapGet("/a", () => names.Count); await Task.Yield();""",
        """EndpointRouteBuilderExtensions.MapGet(router, "/a", () => "a"); await Task.Yield();""",
        """await Task.WhenAll(Task.Delay(1), Task.Delay(2)); _ = cancellationToken;""",
    };

    [Theory]
    [MemberData(nameof(Flagged))]
    public async Task FlagsRouterMisuse(string id, string body)
    {
        var diagnostics = await AnalyzeAsync(body);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("Server plugin CheckedPlugin", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.EndsWith($"docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task AcceptsSynchronousRegistration(string body)
        => Assert.Empty(await AnalyzeAsync(body));

    [Fact]
    public async Task ReportsTheUseAfterTheAwaitNotTheOneBefore()
    {
        var diagnostic = Assert.Single(await AnalyzeAsync("""router.MapGet("/before", () => "a"); await Task.Yield(); router.MapGet("/after", () => "b");"""));
        Assert.Contains("/after", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelperThatAwaitsFirstIsFlaggedAtTheCallSite()
    {
        var diagnostic = Assert.Single(await AnalyzeAsync("await RegisterLaterAsync(router);"));
        Assert.Contains("through CheckedPlugin.RegisterLaterAsync, which it calls here", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("r.MapGet(\"/late\", () => \"late\")", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("RegisterLaterAsync(router)", diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan), StringComparison.Ordinal);
        var inner = Assert.Single(diagnostic.AdditionalLocations);
        Assert.Equal("r.MapGet(\"/late\", () => \"late\")", inner.SourceTree!.GetText().ToString(inner.SourceSpan));
    }

    [Fact]
    public async Task EscapeMessagesSayWhereTheRouterWent()
    {
        Assert.Contains("stored in the field '_router'", Assert.Single(await AnalyzeAsync("_router = router;")).GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Task.Run", Assert.Single(await AnalyzeAsync("""_ = Task.Run(() => router.MapGet("/a", () => "a"));""")).GetMessage(), StringComparison.Ordinal);
        Assert.Contains("passed to new Timer,", Assert.Single(await AnalyzeAsync("""_ = new Timer(_ => router.MapGet("/a", () => "a"), null, 10, Timeout.Infinite);""")).GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MethodsThatAreNotInitAsyncAreNotChecked()
    {
        var diagnostics = await AnalyzeAsync(
            """router.MapGet("/a", () => "a");""",
            members: """public async Task Other(IEndpointRouteBuilder router, CancellationToken cancellationToken) { await Task.Yield(); router.MapGet("/b", () => "b"); }""");
        Assert.Empty(diagnostics);
    }

    [Fact]
    public async Task CompilationWithoutComposeIsSkipped()
    {
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("NoCompose", [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class C { }")]);
        var diagnostics = await compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.Empty(diagnostics);
    }

    internal static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string initBody, string members = Members, string types = Types)
    {
        var source = $$"""
            namespace Checked;

            [ServerPlugin("checked")]
            public sealed class CheckedPlugin : IServerPlugin
            {
                public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    {{initBody}}
                }

            {{members}}
            }

            {{types}}
            """;
        var compilation = Compile("Checked", OutputKind.DynamicallyLinkedLibrary, null, source);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        var analyzed = compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]);
        var crashes = (await analyzed.GetAllDiagnosticsAsync()).Where(d => d.Id == "AD0001").ToList();
        Assert.True(crashes.Count == 0, string.Join(Environment.NewLine, crashes.Select(d => d.GetMessage())));
        return (await analyzed.GetAnalyzerDiagnosticsAsync()).Where(d => d.Id.StartsWith("CMP", StringComparison.Ordinal)).ToImmutableArray();
    }
}
