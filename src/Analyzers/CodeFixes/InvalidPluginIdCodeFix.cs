using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Compose.CodeFixes;

/// <summary>CMP0001: replaces an invalid plugin id with the valid id the diagnostic suggests ("MyPlugin" → "my-plugin").</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InvalidPluginIdCodeFix))]
[Shared]
public sealed class InvalidPluginIdCodeFix : CodeFixProvider
{
    private const string SuggestedIdProperty = "SuggestedId";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CMP0001");

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(SuggestedIdProperty, out var suggestion) || string.IsNullOrEmpty(suggestion))
            {
                continue;
            }

            var argument = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<AttributeArgumentSyntax>();
            if (argument is null)
            {
                continue;
            }

            var replacement = argument.WithExpression(
                SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(suggestion!)).WithTriviaFrom(argument.Expression));
            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Use the plugin id '{suggestion}'",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(argument, replacement))),
                    equivalenceKey: "CMP0001"),
                diagnostic);
        }
    }
}
