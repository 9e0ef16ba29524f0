using System.Collections.Immutable;
using Compose.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Compose.Analyzers.Latest.Tests;

/// <summary>
/// C# 14 extension blocks, which the Roslyn 4.8 test compilations cannot parse: the route rules run inside a
/// Roslyn 5 compiler on a helper written as an extension block member.
/// </summary>
public sealed class ExtensionBlockTests
{
    private const string Helpers = """
        public static class NotesEndpoints
        {
            extension(IEndpointRouteBuilder app)
            {
                public RouteGroupBuilder MapNotes()
                {
                    var group = app.MapGroup("/notes");
                    group.MapGet("/", () => "notes");
                    return group;
                }

                public async Task MapNotesLaterAsync()
                {
                    await Task.Yield();
                    app.MapGet("/late", () => "late");
                }

                public void KeepForLater() => Kept.Routers.Add(app);
            }
        }

        public static class Kept { public static readonly List<IEndpointRouteBuilder> Routers = []; }
        """;

    [Fact]
    public async Task ExtensionBlockHelperThatRegistersSynchronouslyDrawsNothing()
        => Assert.Empty(await AnalyzeAsync("""router.MapNotes(); await Task.Yield();"""));

    [Fact]
    public async Task ExtensionBlockHelperThatRegistersAfterItsAwaitIsCmp0008()
    {
        var diagnostic = Assert.Single(await AnalyzeAsync("""await router.MapNotesLaterAsync();"""));
        Assert.Equal("CMP0008", diagnostic.Id);
        Assert.Contains("MapNotesLaterAsync", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExtensionBlockHelperCalledAfterAnAwaitIsCmp0008()
        => Assert.Equal("CMP0008", Assert.Single(await AnalyzeAsync("""await Task.Yield(); router.MapNotes();""")).Id);

    [Fact]
    public async Task ExtensionBlockHelperThatKeepsTheRouterIsCmp0009()
        => Assert.Equal("CMP0009", Assert.Single(await AnalyzeAsync("""router.KeepForLater();""")).Id);

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string body)
    {
        var source = $$"""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Compose;
            using Microsoft.AspNetCore.Builder;
            using Microsoft.AspNetCore.Http;
            using Microsoft.AspNetCore.Routing;

            [ServerPlugin("blocks")]
            public sealed class BlocksPlugin : IServerPlugin
            {
                public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    {{body}}
                }
            }

            {{Helpers}}
            """;
        var compilation = CSharpCompilation.Create(
            "Blocks",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.CSharp14), path: "/src/Blocks.cs")],
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));

        var analyzed = compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]);
        var crashes = (await analyzed.GetAllDiagnosticsAsync()).Where(d => d.Id == "AD0001").ToList();
        Assert.True(crashes.Count == 0, string.Join(Environment.NewLine, crashes.Select(d => d.GetMessage())));
        return (await analyzed.GetAnalyzerDiagnosticsAsync()).Where(d => d.Id.StartsWith("CMP", StringComparison.Ordinal)).ToImmutableArray();
    }

    private static ImmutableArray<MetadataReference> References { get; } =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var name
                        && (name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
                            || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || name is "netstandard.dll" or "mscorlib.dll"))
            .Append(typeof(ServerPluginAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
}
