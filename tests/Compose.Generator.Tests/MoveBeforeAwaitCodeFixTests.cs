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

/// <summary>
/// CMP0008's code fix through a real workspace: the diagnostics are pinned with span markup, a single fix and Fix All
/// (Document, Project, Solution) are applied, and the result is compared with the expected source and re-analysed.
/// </summary>
public sealed class MoveBeforeAwaitCodeFixTests
{
    private static string Plugin(string name, string body, string members = "") => $$"""
        [ServerPlugin("{{name.ToLowerInvariant()}}")]
        public sealed class {{name}}Plugin : IServerPlugin
        {
            public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
        {{body}}
            }
        {{members}}
        }
        """;

    [Fact]
    public async Task SingleFixMovesTheMarkedRegistration()
    {
        var source = Plugin("Notes", """
                    router.MapGet("/a", () => "a");
                    await Task.Delay(10, cancellationToken);
                    Console.WriteLine("warmed up");
                    {|CMP0008:router.MapGet("/b", () => "b")|};
            """);
        var expected = Plugin("Notes", """
                    router.MapGet("/a", () => "a");
                    router.MapGet("/b", () => "b");
                    await Task.Delay(10, cancellationToken);
                    Console.WriteLine("warmed up");
            """);

        var solution = await SolutionAsync([[source]]);
        var diagnostic = Assert.Single(await DiagnosticsAsync(solution));
        var document = solution.Projects.Single().Documents.Single();
        var action = Assert.Single(await FixesAsync(document, diagnostic));
        Assert.Equal(MoveBeforeAwaitCodeFix.EquivalenceKey, action.EquivalenceKey);

        var fixedSolution = await ApplyAsync(action);
        Assert.Equal(expected, await TextAsync(fixedSolution, document.Id));
        Assert.Empty(await DiagnosticsAsync(fixedSolution));
    }

    [Fact]
    public async Task FixAllInDocumentMovesEveryMovableRegistrationInOrderAndLeavesTheRest()
    {
        var source = Plugin("Tags", """
                    await Task.Yield();
                    var group = {|CMP0008:router.MapGroup("/tags")|};
                    {|CMP0008:group.MapGet("/", () => "all")|};
                    var count = await Task.FromResult(3);
                    {|CMP0008:router.MapGet("/count", () => count)|};
                    {|CMP0008:group.MapGet("/first", () => "first")|};
            """);
        var expected = Plugin("Tags", """
                    var group = router.MapGroup("/tags");
                    group.MapGet("/", () => "all");
                    group.MapGet("/first", () => "first");
                    await Task.Yield();
                    var count = await Task.FromResult(3);
                    router.MapGet("/count", () => count);
            """);

        var solution = await SolutionAsync([[source]]);
        var fixedSolution = await FixAllAsync(solution, FixAllScope.Document);

        Assert.Equal(expected, await TextAsync(fixedSolution, solution.Projects.Single().DocumentIds.Single()));
        var left = Assert.Single(await DiagnosticsAsync(fixedSolution));
        Assert.Contains("router.MapGet(\"/count\"", left.Location.SourceTree!.GetText().ToString(left.Location.SourceSpan), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FixAllInSolutionFixesEveryDocumentOfEveryProject()
    {
        var first = Plugin("First", """
                    await Task.Yield();
                    {|CMP0008:router.MapGet("/one", () => 1)|};
            """);
        var second = Plugin("Second", """
                    await Task.Delay(1, cancellationToken);
                    {|CMP0008:router.MapGet("/two", () => 2)|};
            """);
        var third = Plugin("Third", """
                    await Task.Yield();
                    {|CMP0008:router.MapPost("/three", () => 3)|};
            """);

        var solution = await SolutionAsync([[first, second], [third]]);
        Assert.Equal(3, (await DiagnosticsAsync(solution)).Length);

        var fixedSolution = await FixAllAsync(solution, FixAllScope.Solution);

        Assert.Empty(await DiagnosticsAsync(fixedSolution));
        var texts = await Task.WhenAll(fixedSolution.Projects.SelectMany(p => p.Documents).Select(async d => (await d.GetTextAsync()).ToString()));
        Assert.All(texts, text => Assert.True(text.IndexOf("router.Map", StringComparison.Ordinal) < text.IndexOf("await", StringComparison.Ordinal), text));
    }

    [Fact]
    public async Task FixAllInProjectStaysInsideTheProject()
    {
        var first = Plugin("First", """
                    await Task.Yield();
                    {|CMP0008:router.MapGet("/one", () => 1)|};
            """);
        var other = Plugin("Other", """
                    await Task.Yield();
                    {|CMP0008:router.MapGet("/other", () => 2)|};
            """);

        var solution = await SolutionAsync([[first], [other]]);
        var fixedSolution = await FixAllAsync(solution, FixAllScope.Project);

        var left = Assert.Single(await DiagnosticsAsync(fixedSolution));
        Assert.Contains("/other", left.Location.SourceTree!.GetText().ToString(left.Location.SourceSpan), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""
                    var greeting = await Task.FromResult("hi");
                    {|CMP0008:router.MapGet("/b", () => greeting)|};
        """)]
    [InlineData("""
                    _prefix = await Task.FromResult("/late");
                    {|CMP0008:router.MapGet(_prefix, () => "b")|};
        """)]
    [InlineData("""
                    await Task.Yield();
                    if (cancellationToken.CanBeCanceled) { {|CMP0008:router.MapGet("/b", () => "b")|}; }
        """)]
    [InlineData("""
                    await Task.Yield();
                    {|CMP0008:router.MapGet("/b", () => "b").WithName(await Task.FromResult("b"))|};
        """)]
    public async Task NoFixWhereMovingWouldChangeTheMeaning(string body)
    {
        var solution = await SolutionAsync([[Plugin("Still", body, "private string _prefix = \"/p\";")]]);
        var diagnostic = Assert.Single(await DiagnosticsAsync(solution));

        Assert.Empty(await FixesAsync(solution.Projects.Single().Documents.Single(), diagnostic));
    }

    [Fact]
    public async Task AFieldWrittenAfterTheAwaitMayBeReadByAHandler()
    {
        var source = Plugin("Reader", """
                    _prefix = await Task.FromResult("/late");
                    {|CMP0008:router.MapGet("/p", () => _prefix)|};
            """, "private string _prefix = \"/p\";");

        var solution = await SolutionAsync([[source]]);
        var fixedSolution = await FixAllAsync(solution, FixAllScope.Document);

        Assert.Empty(await DiagnosticsAsync(fixedSolution));
    }

    /// <summary>Builds a solution of one project per list of marked-up sources, and checks the markup against the analyzer's diagnostics.</summary>
    private static async Task<Solution> SolutionAsync(string[][] projects)
    {
        var workspace = new AdhocWorkspace();
        var solution = workspace.CurrentSolution;
        var expected = new List<(string File, Microsoft.CodeAnalysis.Text.TextSpan Span)>();
        for (var p = 0; p < projects.Length; p++)
        {
            var projectId = ProjectId.CreateNewId();
            solution = solution.AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, $"Plugins{p}", $"Plugins{p}", LanguageNames.CSharp,
                compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
                parseOptions: GeneratorHarness.ParseOptions,
                metadataReferences: FrameworkReferences));
            for (var d = 0; d < projects[p].Length; d++)
            {
                var (source, spans) = RouteMarkup.Parse(projects[p][d]);
                var name = $"Plugin{p}_{d}.cs";
                solution = solution.AddDocument(DocumentId.CreateNewId(projectId), name, Usings + source, filePath: "/src/" + name);
                expected.AddRange(spans.Select(s => ("/src/" + name, new Microsoft.CodeAnalysis.Text.TextSpan(s.Span.Start + Usings.Length, s.Span.Length))));
            }
        }

        var actual = (await DiagnosticsAsync(solution)).Select(d => (d.Location.SourceTree!.FilePath, d.Location.SourceSpan)).OrderBy(x => x).ToList();
        Assert.Equal(expected.OrderBy(x => x).ToList(), actual);
        return solution;
    }

    private static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(Solution solution)
    {
        var all = ImmutableArray.CreateBuilder<Diagnostic>();
        foreach (var project in solution.Projects)
        {
            all.AddRange(await ProjectDiagnosticsAsync(project));
        }

        return all.ToImmutable();
    }

    private static async Task<ImmutableArray<Diagnostic>> ProjectDiagnosticsAsync(Project project)
    {
        var compilation = (await project.GetCompilationAsync())!;
        Assert.DoesNotContain(compilation.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        return (await compilation.WithAnalyzers([new RouteRegistrationAnalyzer()]).GetAnalyzerDiagnosticsAsync())
            .Where(d => d.Id.StartsWith("CMP", StringComparison.Ordinal))
            .ToImmutableArray();
    }

    private static async Task<List<CodeAction>> FixesAsync(Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        await new MoveBeforeAwaitCodeFix().RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions;
    }

    private static async Task<Solution> ApplyAsync(CodeAction action)
        => Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>()).ChangedSolution;

    /// <summary>Runs the fix's FixAllProvider the way the IDE and <c>dotnet format</c> do, from the first diagnostic's document.</summary>
    private static async Task<Solution> FixAllAsync(Solution solution, FixAllScope scope)
    {
        var provider = new MoveBeforeAwaitCodeFix();
        var fixAll = provider.GetFixAllProvider();
        Assert.Contains(scope, fixAll.GetSupportedFixAllScopes());
        var first = (await DiagnosticsAsync(solution)).OrderBy(d => d.Location.SourceTree!.FilePath).First();
        var document = solution.GetDocument(first.Location.SourceTree)!;
        var context = new FixAllContext(document, provider, scope, MoveBeforeAwaitCodeFix.EquivalenceKey, provider.FixableDiagnosticIds, new Diagnostics(), CancellationToken.None);
        var action = await fixAll.GetFixAsync(context);
        Assert.NotNull(action);
        return await ApplyAsync(action);
    }

    private static async Task<string> TextAsync(Solution solution, DocumentId id)
        => (await solution.GetDocument(id)!.GetTextAsync()).ToString()[Usings.Length..];

    private sealed class Diagnostics : FixAllContext.DiagnosticProvider
    {
        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken)
        {
            var tree = await document.GetSyntaxTreeAsync(cancellationToken);
            return (await ProjectDiagnosticsAsync(document.Project)).Where(d => d.Location.SourceTree == tree);
        }

        public override async Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken)
            => (await ProjectDiagnosticsAsync(project)).Where(d => !d.Location.IsInSource);

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken)
            => await ProjectDiagnosticsAsync(project);
    }
}
