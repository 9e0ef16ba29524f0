using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace Compose.CodeFixes;

/// <summary>
/// CMP0008: moves a route registration above the first await of <c>InitAsync</c>, when that is safe: both are
/// statements of the method's own statement list, the registration contains no await, and it uses no local
/// declared from the first await onwards.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveBeforeAwaitCodeFix))]
[Shared]
public sealed class MoveBeforeAwaitCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CMP0008");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null; // Each move changes where "the first await" is.

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            var statement = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<StatementSyntax>();
            if (statement?.Parent is not BlockSyntax { Parent: MethodDeclarationSyntax } block)
            {
                continue;
            }

            var index = block.Statements.IndexOf(statement);
            var firstAwait = FirstAwaitingStatement(block);
            if (firstAwait < 0 || firstAwait >= index || Awaits(statement) || UsesLocalsDeclaredIn(model, statement, block.Statements, firstAwait, index, context.CancellationToken))
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    "Register the route before the first await",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(block, Move(block, index, firstAwait)))),
                    equivalenceKey: "CMP0008"),
                diagnostic);
        }
    }

    private static BlockSyntax Move(BlockSyntax block, int from, int to)
    {
        var moved = block.Statements[from];
        var target = block.Statements[to];
        var statements = block.Statements.RemoveAt(from).Insert(to, moved.WithLeadingTrivia(target.GetLeadingTrivia()).WithAdditionalAnnotations(Formatter.Annotation));
        return block.WithStatements(statements);
    }

    private static int FirstAwaitingStatement(BlockSyntax block)
    {
        for (var i = 0; i < block.Statements.Count; i++)
        {
            if (Awaits(block.Statements[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether the statement awaits while it runs (an <c>await using var</c> declaration awaits only at scope end).</summary>
    private static bool Awaits(StatementSyntax statement)
    {
        if (statement is ForEachStatementSyntax { AwaitKeyword.RawKind: not 0 } or UsingStatementSyntax { AwaitKeyword.RawKind: not 0 })
        {
            return true;
        }

        return statement.DescendantNodes(node => node is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .Any(node => node is AwaitExpressionSyntax
                         || node is ForEachStatementSyntax { AwaitKeyword.RawKind: not 0 }
                         || node is UsingStatementSyntax { AwaitKeyword.RawKind: not 0 });
    }

    private static bool UsesLocalsDeclaredIn(SemanticModel model, StatementSyntax statement, SyntaxList<StatementSyntax> statements, int from, int to, CancellationToken cancellationToken)
    {
        var declared = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        for (var i = from; i < to; i++)
        {
            foreach (var node in statements[i].DescendantNodesAndSelf())
            {
                if (node is VariableDeclaratorSyntax or SingleVariableDesignationSyntax or ForEachStatementSyntax or LocalFunctionStatementSyntax
                    && model.GetDeclaredSymbol(node, cancellationToken) is { } symbol)
                {
                    declared.Add(symbol);
                }
            }
        }

        return declared.Count > 0 && statement.DescendantNodes().OfType<IdentifierNameSyntax>()
            .Any(name => model.GetSymbolInfo(name, cancellationToken).Symbol is { } symbol && declared.Contains(symbol));
    }
}
