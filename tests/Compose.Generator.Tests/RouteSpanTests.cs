using System.Collections.Immutable;
using Compose.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>
/// Span markup for analyzer tests, in the notation of Microsoft.CodeAnalysis.Testing: <c>{|CMP0008:code|}</c> marks
/// where a diagnostic with that id is expected, <c>[|code|]</c> marks its additional location (the offending line in
/// a helper). Markers may nest.
/// </summary>
internal static class RouteMarkup
{
    public sealed record Expected(string? Id, TextSpan Span);

    public static (string Source, List<Expected> Spans) Parse(string markup)
    {
        var text = new System.Text.StringBuilder();
        var open = new Stack<(string? Id, int Start)>();
        var spans = new List<Expected>();
        for (var i = 0; i < markup.Length; i++)
        {
            if (markup[i] == '{' && i + 1 < markup.Length && markup[i + 1] == '|')
            {
                var colon = markup.IndexOf(':', i);
                open.Push((markup.Substring(i + 2, colon - i - 2), text.Length));
                i = colon;
            }
            else if (markup[i] == '[' && i + 1 < markup.Length && markup[i + 1] == '|')
            {
                open.Push((null, text.Length));
                i++;
            }
            else if (markup[i] == '|' && i + 1 < markup.Length && markup[i + 1] is '}' or ']')
            {
                var (id, start) = open.Pop();
                spans.Add(new Expected(id, TextSpan.FromBounds(start, text.Length)));
                i++;
            }
            else
            {
                text.Append(markup[i]);
            }
        }

        Assert.Empty(open);
        return (text.ToString(), spans);
    }

    /// <summary>Compiles the marked-up plugin source, runs the route analyzer, and checks ids, spans and additional locations exactly.</summary>
    public static async Task<ImmutableArray<Diagnostic>> VerifyAsync(string markup, IEnumerable<MetadataReference>? references = null)
    {
        var (source, spans) = Parse(markup);
        var compilation = Compile("Spans", OutputKind.DynamicallyLinkedLibrary, references, source);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        var diagnostics = (await compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAnalyzerDiagnosticsAsync())
            .Where(d => d.Id.StartsWith("CMP", StringComparison.Ordinal))
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ToImmutableArray();

        var offset = Usings.Length;
        var expectedPrimary = spans.Where(s => s.Id is not null).OrderBy(s => s.Span.Start).Select(s => (s.Id, s.Span)).ToList();
        var actualPrimary = diagnostics.Select(d => ((string?)d.Id, new TextSpan(d.Location.SourceSpan.Start - offset, d.Location.SourceSpan.Length))).ToList();
        Assert.True(expectedPrimary.SequenceEqual(actualPrimary), $"expected {Show(source, expectedPrimary)}, got {Show(source, actualPrimary)}: {string.Join(Environment.NewLine, diagnostics)}");

        var expectedAdditional = spans.Where(s => s.Id is null).Select(s => s.Span).OrderBy(s => s.Start).ToList();
        var actualAdditional = diagnostics.SelectMany(d => d.AdditionalLocations).Select(l => new TextSpan(l.SourceSpan.Start - offset, l.SourceSpan.Length)).OrderBy(s => s.Start).ToList();
        Assert.True(expectedAdditional.SequenceEqual(actualAdditional), $"additional locations: expected {Show(source, expectedAdditional.Select(s => ((string?)null, s)))}, got {Show(source, actualAdditional.Select(s => ((string?)null, s)))}");
        return diagnostics;
    }

    private static string Show(string source, IEnumerable<(string? Id, TextSpan Span)> spans)
        => "[" + string.Join(", ", spans.Select(s => $"{s.Id} '{(s.Span.End <= source.Length && s.Span.Start >= 0 ? source.Substring(s.Span.Start, s.Span.Length) : s.Span.ToString())}'")) + "]";
}

/// <summary>Each route rule at its exact span (markup), with the helper's offending line as additional location.</summary>
public sealed class RouteSpanTests
{
    private static string Plugin(string body, string members = "", string types = "") => $$"""
        namespace Spans;

        [ServerPlugin("spans")]
        public sealed class SpansPlugin : IServerPlugin
        {
            public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
                {{body}}
            }

            {{members}}
        }

        {{types}}
        """;

    [Fact]
    public async Task RouteAfterAnAwaitIsTheCallAfterIt()
        => await RouteMarkup.VerifyAsync(Plugin("""
            router.MapGet("/before", () => "a");
            await Task.Yield();
            {|CMP0008:router.MapGet("/after", () => "b")|};
            """));

    [Fact]
    public async Task RouteAfterAnAwaitInAHelperPointsAtTheCallAndTheHelperLine()
    {
        var diagnostics = await RouteMarkup.VerifyAsync(Plugin(
            """await {|CMP0008:NotesRoutes.MapLaterAsync(router)|};""",
            types: """
                public static class NotesRoutes
                {
                    public static async Task MapLaterAsync(IEndpointRouteBuilder routes)
                    {
                        await Task.Delay(1);
                        [|routes.MapGet("/notes", () => "notes")|];
                    }
                }
                """));

        var diagnostic = Assert.Single(diagnostics);
        var message = diagnostic.GetMessage();
        Assert.Contains("NotesRoutes.MapLaterAsync", message, StringComparison.Ordinal);
        Assert.Contains("routes.MapGet(\"/notes\", () => \"notes\")", message, StringComparison.Ordinal);
        Assert.Contains($"File0.cs line {diagnostic.AdditionalLocations[0].GetLineSpan().StartLinePosition.Line + 1}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteAfterAnAwaitTwoHelpersDownNamesTheChain()
    {
        var diagnostics = await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0008:Outer(router)|}; await Task.Yield();""",
            members: """
                private static void Outer(IEndpointRouteBuilder r) => _ = InnerAsync(r);
                private static async Task InnerAsync(IEndpointRouteBuilder r) { await Task.Yield(); [|r.MapGet("/deep", () => "deep")|]; }
                """));

        Assert.Contains("SpansPlugin.Outer → SpansPlugin.InnerAsync", Assert.Single(diagnostics).GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouterStoredInAFieldIsTheAssignment()
        => await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0009:_router = router|};""",
            members: "private IEndpointRouteBuilder? _router; public bool Kept => _router is not null;"));

    [Fact]
    public async Task RouterStoredByAHelperPointsAtTheCallAndTheStore()
    {
        var diagnostics = await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0009:Keep(router)|};""",
            members: """
                private IEndpointRouteBuilder? _router;
                private void Keep(IEndpointRouteBuilder r) { [|_router = r|]; }
                public bool Kept => _router is not null;
                """));

        var message = Assert.Single(diagnostics).GetMessage();
        Assert.Contains("SpansPlugin.Keep", message, StringComparison.Ordinal);
        Assert.Contains("_router = r", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallbackThatRegistersLaterIsTheLambdaWithTheUseInside()
        => await RouteMarkup.VerifyAsync(Plugin(
            """_ = Task.Run({|CMP0009:() => [|router.MapGet("/late", () => "late")|]|});"""));

    [Fact]
    public async Task HandlerThatOnlyReadsServicesDrawsNothing()
        => await RouteMarkup.VerifyAsync(Plugin(
            """router.MapGet("/svc", () => router.ServiceProvider.GetService(typeof(ILoggerFactory)) is null); await Task.Yield();"""));

    [Fact]
    public async Task HelpersDeeperThanTheLimitAreAWarningNotASilentAccept()
    {
        var levels = string.Join("\n", Enumerable.Range(1, RouterFlow.MaxHelperDepth + 1).Select(i =>
            i <= RouterFlow.MaxHelperDepth
                ? $"private static void L{i}(IEndpointRouteBuilder r) => L{i + 1}(r);"
                : $"private static void [|L{i}|](IEndpointRouteBuilder r) => r.MapGet(\"/deep\", () => \"deep\");"));
        var diagnostic = Assert.Single(await RouteMarkup.VerifyAsync(Plugin("""{|CMP0014:L1(router)|}; await Task.Yield();""", members: levels)));

        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Contains($"deeper than {RouterFlow.MaxHelperDepth} calls", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.EndsWith("docs/diagnostics/CMP0014.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpersAtTheLimitAreFollowed()
    {
        var levels = string.Join("\n", Enumerable.Range(1, RouterFlow.MaxHelperDepth).Select(i =>
            i < RouterFlow.MaxHelperDepth
                ? $"private static void L{i}(IEndpointRouteBuilder r) => L{i + 1}(r);"
                : $"private static async void L{i}(IEndpointRouteBuilder r) {{ await Task.Yield(); [|r.MapGet(\"/deep\", () => \"deep\")|]; }}"));
        await RouteMarkup.VerifyAsync(Plugin("""{|CMP0008:L1(router)|}; await Task.Yield();""", members: levels));
    }

    [Fact]
    public async Task DelegateOfUnknownOriginHandedTheRouterIsAWarning()
        => await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0014:_configure(router)|}; await Task.Yield();""",
            members: """
                private readonly Action<IEndpointRouteBuilder> _configure;
                public SpansPlugin(Action<IEndpointRouteBuilder> configure) { _configure = configure; }
                """));

    [Fact]
    public async Task InterfaceWithNoImplementationInTheCompilationIsAWarning()
        => await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0014:_module.Map(router)|}; await Task.Yield();""",
            members: """
                private readonly IExternalModule _module;
                public SpansPlugin(IExternalModule module) { _module = module; }
                """,
            types: "public interface IExternalModule { void Map(IEndpointRouteBuilder routes); }"));

    [Fact]
    public async Task CallbackHandedToAThirdPartyLibraryIsAWarning()
    {
        var library = BuildLibrary("Acme.Scheduling", """
            namespace Acme.Scheduling;
            public static class Scheduler
            {
                private static readonly List<Action> Queue = [];
                public static void Enqueue(Action work) => Queue.Add(work);
            }
            """);

        var diagnostic = Assert.Single(await RouteMarkup.VerifyAsync(
            Plugin("""Acme.Scheduling.Scheduler.Enqueue({|CMP0014:() => router.MapGet("/q", () => "q")|}); await Task.Yield();"""), [library]));
        Assert.Contains("Scheduler.Enqueue", diagnostic.GetMessage(), StringComparison.Ordinal);

        // A callback that does not touch the router is none of the rule's business.
        await RouteMarkup.VerifyAsync(Plugin("""Acme.Scheduling.Scheduler.Enqueue(() => Console.WriteLine("q")); router.MapGet("/q", () => "q");"""), [library]);
    }

    [Fact]
    public async Task MethodWithoutABodyIsAWarning()
        => await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0014:NativeMap(router)|}; await Task.Yield();""",
            members: """
                [System.Runtime.InteropServices.DllImport("routes")]
                private static extern void [|NativeMap|](IEndpointRouteBuilder routes);
                """));

    [Fact]
    public async Task AbstractMethodWithNoOverrideInTheCompilationIsAWarning()
        => await RouteMarkup.VerifyAsync(Plugin(
            """{|CMP0014:_module.Map(router)|}; await Task.Yield();""",
            members: """
                private readonly ModuleBase _module;
                public SpansPlugin(ModuleBase module) { _module = module; }
                """,
            types: "public abstract class ModuleBase { public abstract void Map(IEndpointRouteBuilder routes); }"));

    [Fact]
    public async Task DelegateLocalWithAKnownLambdaIsFollowed()
        => await RouteMarkup.VerifyAsync(Plugin(
            """Action<IEndpointRouteBuilder> map = r => r.MapGet("/a", () => "a"); map(router); await Task.Yield();"""));

    [Fact]
    public async Task PragmaSuppressesTheRule()
        => await RouteMarkup.VerifyAsync(Plugin("""
            await Task.Yield();
            #pragma warning disable CMP0008 // Registered on purpose after the warm-up: the host maps late groups itself.
            router.MapGet("/after", () => "b");
            #pragma warning restore CMP0008
            """));

    [Fact]
    public async Task SummariesAreSharedAcrossPluginsOfOneCompilation()
    {
        // Two plugins call the same helper: both are flagged, from one summary of the helper.
        var source = Plugin("""await {|CMP0008:Shared.MapLaterAsync(router)|};""", types: """
            [ServerPlugin("second")]
            public sealed class SecondPlugin : IServerPlugin
            {
                public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken) { await {|CMP0008:Shared.MapLaterAsync(router)|}; }
            }

            public static class Shared
            {
                public static async Task MapLaterAsync(IEndpointRouteBuilder r) { await Task.Yield(); [|r.MapGet("/s", () => "s")|]; }
            }
            """);
        var (clean, _) = RouteMarkup.Parse(source);

        // Both diagnostics carry the same additional location, so the markup has it once: compare by hand.
        var compilation = Compile("Spans", OutputKind.DynamicallyLinkedLibrary, null, clean);
        var diagnostics = await compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.Equal(2, diagnostics.Count(d => d.Id == "CMP0008"));
        Assert.Single(diagnostics.SelectMany(d => d.AdditionalLocations).Distinct());
    }
}
