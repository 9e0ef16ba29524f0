using System.Collections.Immutable;
using Compose.Analyzers;
using Compose.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>The CMP0008 code fix, before and after, applied through a real Roslyn workspace (the per-plugin fixes: <see cref="PluginCodeFixTests"/>).</summary>
public sealed class CodeFixTests
{
    [Fact]
    public async Task RegistrationAfterTheFirstAwaitMovesBeforeIt()
    {
        var source = Plugin("""
                router.MapGet("/a", () => "a");
                await Task.Delay(10, cancellationToken);
                Console.WriteLine("warmed up");
                router.MapGet("/b", () => "b");
            """);
        var expected = Plugin("""
                router.MapGet("/a", () => "a");
                router.MapGet("/b", () => "b");
                await Task.Delay(10, cancellationToken);
                Console.WriteLine("warmed up");
            """);

        var result = await ApplyAsync(new MoveBeforeAwaitCodeFix(), source, AnalyzerDiagnosticsAsync);

        Assert.Equal(Lines(expected), Lines(result.Text));
        Assert.Empty(await AnalyzerDiagnosticsAsync(result.Compilation));
    }

    [Theory]
    [InlineData("""
            var greeting = await Task.FromResult("hi");
            router.MapGet("/b", () => greeting);
        """)]
    [InlineData("""
            await Task.Yield();
            if (cancellationToken.CanBeCanceled) { router.MapGet("/b", () => "b"); }
        """)]
    public async Task NoMoveIsOfferedWhereItWouldChangeTheMeaning(string body)
    {
        var source = Plugin(body);
        var compilation = await CompileAsync(source);
        var diagnostics = await AnalyzerDiagnosticsAsync(compilation.Compilation);
        Assert.Single(diagnostics);

        var actions = await FixesAsync(new MoveBeforeAwaitCodeFix(), compilation.Document, diagnostics.Single());
        Assert.Empty(actions);
    }

    private static string[] Lines(string text) => text.Split('\n').Select(line => line.Trim()).ToArray();

    private static string Plugin(string body) => $$"""
        [ServerPlugin("moving")]
        public sealed class MovingPlugin : IServerPlugin
        {
            public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
            {{body}}
            }
        }
        """;

    private static async Task<ImmutableArray<Diagnostic>> AnalyzerDiagnosticsAsync(Compilation compilation)
        => await compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAnalyzerDiagnosticsAsync();

    private static async Task<(Document Document, Compilation Compilation)> CompileAsync(string source)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("Fixed", LanguageNames.CSharp)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .WithParseOptions(GeneratorHarness.ParseOptions)
            .WithMetadataReferences(FrameworkReferences);
        var document = project.AddDocument("Plugin.cs", Usings + source);
        return (document, (await document.Project.GetCompilationAsync())!);
    }

    private static async Task<List<CodeAction>> FixesAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions;
    }

    private static async Task<(string Text, Compilation Compilation)> ApplyAsync(
        CodeFixProvider provider, string source, Func<Compilation, Task<ImmutableArray<Diagnostic>>> diagnose)
    {
        var (document, compilation) = await CompileAsync(source);
        var diagnostic = Assert.Single(await diagnose(compilation), d => provider.FixableDiagnosticIds.Contains(d.Id));
        var action = Assert.Single(await FixesAsync(provider, document, diagnostic));
        var operation = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        var changed = operation.ChangedSolution.GetDocument(document.Id)!;
        var text = (await changed.GetTextAsync()).ToString();
        return (text[Usings.Length..], (await changed.Project.GetCompilationAsync())!);
    }
}
