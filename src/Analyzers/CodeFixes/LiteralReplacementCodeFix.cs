using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Compose.CodeFixes;

/// <summary>
/// A fix that replaces the string literal a diagnostic points at with the value the analyzer put into one of its
/// properties. Only a literal is replaced: a value built from constants is fixed where they are declared.
/// </summary>
public abstract class LiteralReplacementCodeFix : CodeFixProvider
{
    private readonly string _diagnosticId;
    private readonly string _propertyKey;

    /// <summary>Creates the fix for one diagnostic id.</summary>
    /// <param name="diagnosticId">The id of the diagnostic it fixes.</param>
    /// <param name="propertyKey">The key of the diagnostic property that holds the replacement.</param>
    private protected LiteralReplacementCodeFix(string diagnosticId, string propertyKey)
    {
        _diagnosticId = diagnosticId;
        _propertyKey = propertyKey;
        FixableDiagnosticIds = ImmutableArray.Create(diagnosticId);
    }

    /// <inheritdoc/>
    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; }

    /// <inheritdoc/>
    public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(_propertyKey, out var value) || string.IsNullOrEmpty(value)
                || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal
                || !literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                continue;
            }

            var replacement = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(value!)).WithTriviaFrom(literal);
            context.RegisterCodeFix(
                CodeAction.Create(
                    Title(value!),
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(literal, replacement))),
                    equivalenceKey: _diagnosticId),
                diagnostic);
        }
    }

    /// <summary>The title of the fix that writes <paramref name="value"/>.</summary>
    /// <param name="value">The replacement value, unquoted.</param>
    /// <returns>The text the IDE shows.</returns>
    private protected abstract string Title(string value);
}
