using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Compose.Generator.Tests;

/// <summary>
/// The Roslyn SDK test framework set up for Compose: the ASP.NET Core shared framework and Compose.Abstractions as
/// references (from this test process, so nothing is downloaded), the common usings, C# latest. Span markup such as
/// <c>{|CMP0001:"MyPlugin"|}</c> pins each diagnostic's exact location; code fix tests also run Fix All in the
/// document, project and solution.
/// </summary>
internal static class Verifier
{
    /// <summary>A source file as the tests write it: the common usings, then the text (with markup).</summary>
    public static string Source(string text) => GeneratorHarness.Usings + text;

    public static Task AnalyzeAsync<TAnalyzer>(string source, params DiagnosticResult[] expected)
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        var test = new AnalyzerTest<TAnalyzer> { TestCode = Source(source) };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    public static Task FixAsync<TAnalyzer, TCodeFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TAnalyzer, TCodeFix> { TestCode = Source(source), FixedCode = Source(fixedSource) };
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private static void Configure(ProjectState state)
    {
        state.AdditionalReferences.AddRange(GeneratorHarness.FrameworkReferences);
    }

    private static Solution Latest(Solution solution, ProjectId projectId)
    {
        var project = solution.GetProject(projectId)!;
        return solution
            .WithProjectParseOptions(projectId, ((CSharpParseOptions)project.ParseOptions!).WithLanguageVersion(LanguageVersion.Latest))
            .WithProjectCompilationOptions(projectId, project.CompilationOptions!.WithSpecificDiagnosticOptions(project.CompilationOptions.SpecificDiagnosticOptions.SetItem("CS1591", ReportDiagnostic.Suppress)));
    }

    /// <summary>An analyzer test with Compose's references.</summary>
    public sealed class AnalyzerTest<TAnalyzer> : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        public AnalyzerTest()
        {
            // Several descriptors share an id (one message per mistake): markup pins id and span, explicit results the message.
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
            ReferenceAssemblies = new ReferenceAssemblies("net-shared-framework");
            Configure(TestState);
            SolutionTransforms.Add(Latest);
        }
    }

    /// <summary>A code fix test with Compose's references.</summary>
    public sealed class CodeFixTest<TAnalyzer, TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TCodeFix : CodeFixProvider, new()
    {
        public CodeFixTest()
        {
            MarkupOptions = MarkupOptions.UseFirstDescriptor;
            ReferenceAssemblies = new ReferenceAssemblies("net-shared-framework");
            Configure(TestState);
            SolutionTransforms.Add(Latest);
        }
    }
}
