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
/// CMP0008: moves route registrations above the first await of <c>InitAsync</c>, where that is safe. A registration
/// moves when it is a statement of the method's own statement list after the first awaiting statement, contains no
/// await, uses no local declared in the statements it would jump over, and reads (outside its lambdas, which run per
/// request) nothing those statements write. Fix All moves every such registration of a method at once, in their
/// order, and works in Document, Project and Solution scope (also for <c>dotnet format</c>).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveBeforeAwaitCodeFix))]
[Shared]
public sealed class MoveBeforeAwaitCodeFix : CodeFixProvider
{
    /// <summary>The equivalence key of the fix: Fix All applies every fix with this key.</summary>
    public const string EquivalenceKey = "CMP0008.MoveBeforeFirstAwait";

    private const string DiagnosticId = "CMP0008";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllAsync);

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
            if (Statement(root, diagnostic) is not { } statement
                || Move((BlockSyntax)statement.Parent!, [statement], model, context.CancellationToken) is null)
            {
                continue;
            }

            var document = context.Document;
            context.RegisterCodeFix(
                CodeAction.Create(
                    "Register the route before the first await",
                    cancellationToken => FixDocumentAsync(document, ImmutableArray.Create(diagnostic), cancellationToken),
                    EquivalenceKey),
                diagnostic);
        }
    }

    private static async Task<Document?> FixAllAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
        => await FixDocumentAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false);

    private static async Task<Document> FixDocumentAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return document;
        }

        var replacements = new Dictionary<SyntaxNode, SyntaxNode>();
        foreach (var group in diagnostics
                     .Where(d => d.Id == DiagnosticId)
                     .Select(d => Statement(root, d))
                     .OfType<StatementSyntax>()
                     .Distinct()
                     .GroupBy(s => (BlockSyntax)s.Parent!))
        {
            if (Move(group.Key, group.ToList(), model, cancellationToken) is { } moved)
            {
                replacements[group.Key] = moved;
            }
        }

        return replacements.Count == 0
            ? document
            : document.WithSyntaxRoot(root.ReplaceNodes(replacements.Keys, (original, _) => replacements[original]));
    }

    /// <summary>The statement of a method body the diagnostic is in, or null when it is nested deeper.</summary>
    private static StatementSyntax? Statement(SyntaxNode root, Diagnostic diagnostic)
    {
        if (diagnostic.Location.SourceTree != root.SyntaxTree)
        {
            return null;
        }

        var statement = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<StatementSyntax>();
        return statement?.Parent is BlockSyntax { Parent: MethodDeclarationSyntax } ? statement : null;
    }

    /// <summary>
    /// Moves the candidates that can move, in order, to just before the first awaiting statement; null when none can.
    /// Candidates are decided in order: one that stays behind counts as jumped over for the ones after it.
    /// </summary>
    private static BlockSyntax? Move(BlockSyntax block, IReadOnlyCollection<StatementSyntax> candidates, SemanticModel model, CancellationToken cancellationToken)
    {
        var statements = block.Statements;
        var firstAwait = -1;
        for (var i = 0; i < statements.Count && firstAwait < 0; i++)
        {
            if (Awaits(statements[i]))
            {
                firstAwait = i;
            }
        }

        if (firstAwait < 0)
        {
            return null;
        }

        var moving = new List<int>();
        var declared = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        var written = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        var candidateSet = new HashSet<StatementSyntax>(candidates);
        for (var i = firstAwait; i < statements.Count; i++)
        {
            var statement = statements[i];
            if (candidateSet.Contains(statement) && i > firstAwait && !Awaits(statement) && !DependsOn(statement, declared, written, model, cancellationToken))
            {
                moving.Add(i);
                continue;
            }

            Collect(statement, declared, written, model, cancellationToken);
        }

        if (moving.Count == 0)
        {
            return null;
        }

        var moved = moving.Select(i => statements[i].WithAdditionalAnnotations(Formatter.Annotation)).ToList();
        var remaining = statements.Where((_, i) => !moving.Contains(i)).ToList();
        var insertAt = remaining.IndexOf(statements[firstAwait]);
        remaining.InsertRange(insertAt, moved);
        return block.WithStatements(SyntaxFactory.List(remaining));
    }

    /// <summary>Whether the statement awaits while it runs (an <c>await using var</c> declaration awaits only at scope end, and counts too: its scope changes).</summary>
    private static bool Awaits(StatementSyntax statement)
    {
        if (statement is ForEachStatementSyntax { AwaitKeyword.RawKind: not 0 } or UsingStatementSyntax { AwaitKeyword.RawKind: not 0 } or LocalDeclarationStatementSyntax { AwaitKeyword.RawKind: not 0 })
        {
            return true;
        }

        return statement.DescendantNodes(node => node is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .Any(node => node is AwaitExpressionSyntax
                         || node is ForEachStatementSyntax { AwaitKeyword.RawKind: not 0 }
                         || node is UsingStatementSyntax { AwaitKeyword.RawKind: not 0 });
    }

    /// <summary>What a statement that stays behind declares, and what it writes (fields, properties, locals; in lambdas too).</summary>
    private static void Collect(StatementSyntax statement, HashSet<ISymbol> declared, HashSet<ISymbol> written, SemanticModel model, CancellationToken cancellationToken)
    {
        foreach (var node in statement.DescendantNodesAndSelf())
        {
            switch (node)
            {
                case VariableDeclaratorSyntax or SingleVariableDesignationSyntax or ForEachStatementSyntax or LocalFunctionStatementSyntax
                    when model.GetDeclaredSymbol(node, cancellationToken) is { } symbol:
                    declared.Add(symbol);
                    break;
                case AssignmentExpressionSyntax assignment when model.GetSymbolInfo(assignment.Left, cancellationToken).Symbol is { } target:
                    written.Add(target);
                    break;
                case PrefixUnaryExpressionSyntax or PostfixUnaryExpressionSyntax
                    when node.ChildNodes().FirstOrDefault() is ExpressionSyntax operand && model.GetSymbolInfo(operand, cancellationToken).Symbol is { } target:
                    written.Add(target);
                    break;
                case ArgumentSyntax { RefKindKeyword.RawKind: not 0 } argument when model.GetSymbolInfo(argument.Expression, cancellationToken).Symbol is { } target:
                    written.Add(target);
                    break;
            }
        }
    }

    /// <summary>
    /// Whether moving the statement above the others would change what it means: it names a local they declare, or,
    /// outside its own lambdas (which run per request, after InitAsync), reads something they write.
    /// </summary>
    private static bool DependsOn(StatementSyntax statement, HashSet<ISymbol> declared, HashSet<ISymbol> written, SemanticModel model, CancellationToken cancellationToken)
    {
        if (declared.Count == 0 && written.Count == 0)
        {
            return false;
        }

        foreach (var name in statement.DescendantNodes().OfType<SimpleNameSyntax>())
        {
            if (model.GetSymbolInfo(name, cancellationToken).Symbol is not { } symbol)
            {
                continue;
            }

            if (declared.Contains(symbol))
            {
                return true;
            }

            if (written.Contains(symbol) && name.FirstAncestorOrSelf<AnonymousFunctionExpressionSyntax>() is null)
            {
                return true;
            }
        }

        return false;
    }
}
