function Import-BmsTenantData {
    <#
    .SYNOPSIS
    Imports users, groups, memberships, licenses, devices and BMS policies into the workspace.

    .DESCRIPTION
    Reads the admin's exports (CSV, XLSX/XLSM/XLS/ODS workbooks, the BMS policy JSON written by
    Export-BmsDevicePolicy, an edited wave plan) into the workspace's tenant snapshot, which
    Test-BmsMigrationReadiness, ConvertTo-BmsIntunePolicy and New-BmsWavePlan work from. Each
    file's kind is recognised from its headers unless -As says it. Importing replaces the snapshot
    unless -Add is given.

    Rows can also be piped in, for example from Import-Csv after filtering: they are written to a
    temporary UTF-8 CSV file that is imported and then deleted.

    Outputs one Bms2Intune.ImportFile object per file (and per workbook sheet, and per array of a
    policy bundle): kind, rows read, kept and rejected, with the warnings and rejections listed
    as Bms2Intune.ImportIssue objects (code, row, column, value, message; every rejected row is
    also in rejected-rows.csv in the workspace). Snapshot-wide warnings (group cycles, skipped
    sheets) go to the warning stream.

    .PARAMETER Path
    Files to import. Wildcards are expanded (sorted by name); every path must exist. Accepts
    FileInfo objects from Get-ChildItem through the pipeline.

    .PARAMETER InputObject
    Rows to import (objects from Import-Csv, Import-Excel or Get-MgUser | Select-Object ...), or
    file paths and FileInfo objects. Rows are written to one temporary CSV file.

    .PARAMETER FromGraph
    Read the tenant directly from Microsoft Graph (after Connect-BmsGraph) instead of from files.

    .PARAMETER As
    Treat every file as this kind instead of recognising it from its headers: users, groups,
    members, licenses, products, devices, policies or plan.

    .PARAMETER Sheet
    Read only this sheet of each workbook.

    .PARAMETER Add
    Merge into the existing snapshot instead of replacing it.

    .PARAMETER Strict
    Fail (terminating error) when any row is rejected, for scheduled jobs.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .EXAMPLE
    Get-ChildItem .\sample -File | Import-BmsTenantData -Workspace .\work

    Imports every export in the .\sample folder (kinds recognised from their headers) into a new
    snapshot in .\work and lists each file with its counts.

    .EXAMPLE
    Import-BmsTenantData -Path .\policies.json -As policies -Add -Strict -Workspace .\work

    Adds the BMS policies written by Export-BmsDevicePolicy to the snapshot; any rejected policy
    stops the script.

    .EXAMPLE
    Import-Csv .\users.csv | Where-Object Department -eq 'Sales' | Import-BmsTenantData -As users -Add -Workspace .\work

    Imports only the Sales users of an export, filtered in PowerShell.

    .EXAMPLE
    Import-BmsTenantData -Path .\tenant.xlsx -Sheet Users -As users -Workspace .\work

    Imports the Users sheet of a workbook as users, whatever its headers look like.

    .EXAMPLE
    try { Import-BmsTenantData -Path .\users.csv -As users -Strict -Workspace .\work } catch { $_.FullyQualifiedErrorId; $_.TargetObject }

    With -Strict a rejected row stops the import ('import.strict') and leaves the snapshot as it
    was; the error's TargetObject names the file, row and column of the first rejected row.

    .EXAMPLE
    Import-BmsTenantData -FromGraph -Workspace .\work

    Reads the tenant from Microsoft Graph (after Connect-BmsGraph) instead of from exports.

    .INPUTS
    System.String, System.IO.FileInfo, or any object (a row).

    .OUTPUTS
    Bms2Intune.ImportFile

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    [OutputType('Bms2Intune.ImportFile')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Path', ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string[]] $Path,

        [Parameter(Mandatory, ParameterSetName = 'InputObject', ValueFromPipeline)]
        [ValidateNotNull()]
        [psobject[]] $InputObject,

        [Parameter(Mandatory, ParameterSetName = 'FromGraph')]
        [switch] $FromGraph,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(ParameterSetName = 'InputObject')]
        [ValidateSet('users', 'groups', 'members', 'licenses', 'products', 'devices', 'policies', 'plan')]
        [string] $As,

        [Parameter(ParameterSetName = 'Path')]
        [Parameter(ParameterSetName = 'InputObject')]
        [ValidateNotNullOrEmpty()]
        [string] $Sheet,

        [switch] $Add,

        [switch] $Strict,

        [string] $Workspace
    )
    begin {
        $files = New-Object System.Collections.Generic.List[string]
        $rows = New-Object System.Collections.Generic.List[object]
        $addFile = {
            param([string] $Item, [bool] $Literal)
            if ($Literal) {
                $found = @(Resolve-Path -LiteralPath $Item -ErrorAction SilentlyContinue)
            } else {
                $found = @(Resolve-Path -Path $Item -ErrorAction SilentlyContinue | Sort-Object -Property ProviderPath)
            }
            if ($found.Count -eq 0) {
                $record = ConvertTo-BmsErrorRecord -Code 'module.file_not_found' -Category ObjectNotFound -Message "Cannot import '$Item': no such file." -Details @([pscustomobject]@{ file = $Item })
                $PSCmdlet.ThrowTerminatingError($record)
            }
            foreach ($f in $found) {
                if (-not (Test-Path -LiteralPath $f.ProviderPath -PathType Leaf)) {
                    $record = ConvertTo-BmsErrorRecord -Code 'module.not_a_file' -Category InvalidArgument -Message "Cannot import '$($f.ProviderPath)': it is a folder; pass the files in it (Get-ChildItem '$Item' -File | Import-BmsTenantData)." -Details @([pscustomobject]@{ file = $f.ProviderPath })
                    $PSCmdlet.ThrowTerminatingError($record)
                }
                $files.Add($f.ProviderPath)
            }
        }
    }
    process {
        if ($PSCmdlet.ParameterSetName -eq 'Path') {
            foreach ($p in $Path) { & $addFile $p }
        } elseif ($PSCmdlet.ParameterSetName -eq 'InputObject') {
            foreach ($o in $InputObject) {
                $base = $o
                if ($o -is [psobject]) { $base = $o.PSObject.BaseObject }
                if ($base -is [System.IO.FileInfo]) { & $addFile $base.FullName $true }
                elseif ($base -is [string]) { & $addFile $base }
                elseif ($o.PSObject.TypeNames -contains 'Bms2Intune.PolicyExport') { & $addFile $o.Path $true }
                else { $rows.Add($o) }
            }
        }
    }
    end {
        $temp = $null
        try {
            if ($rows.Count -gt 0) {
                $temp = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('bms2intune-rows-{0}.csv' -f [guid]::NewGuid().ToString('N'))
                $rows | Export-Csv -LiteralPath $temp -NoTypeInformation -Encoding UTF8
                $files.Add($temp)
            }
            $params = [ordered]@{}
            $params['workspace'] = Resolve-BmsWorkspace -Workspace $Workspace
            if ($FromGraph) {
                $params['from_graph'] = $true
            } else {
                if ($files.Count -eq 0) {
                    $record = ConvertTo-BmsErrorRecord -Code 'module.no_input' -Category InvalidArgument -Message 'Nothing to import: pass -Path, pipe files or rows, or use -FromGraph.'
                    $PSCmdlet.ThrowTerminatingError($record)
                }
                $params['files'] = $files.ToArray()
                if ($As) { $params['as'] = $As }
                if ($Sheet) { $params['sheet'] = $Sheet }
            }
            if ($Add) { $params['add'] = $true }
            if ($Strict) { $params['strict'] = $true }

            try {
                $result = Invoke-BmsRpc -Command 'import' -Params $params
            } catch {
                if ($FromGraph) { throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature 'Importing the tenant from Microsoft Graph') }
                throw
            }
            if ($result.totals) {
                $t = $result.totals
                Write-Verbose -Message ('Snapshot: {0} users, {1} groups, {2} memberships, {3} license assignments, {4} products, {5} devices, {6} policies.' -f $t.users, $t.groups, $t.memberships, $t.license_assignments, $t.products, $t.devices, $t.policies)
            }
            foreach ($w in (ConvertTo-BmsArray $result.warnings)) {
                Write-Warning -Message ('[{0}] {1}' -f $w.code, $w.message)
            }
            foreach ($f in (ConvertTo-BmsArray $result.files)) {
                $filePath = $f.path
                if ($temp -and $filePath -eq $temp) { $filePath = '(pipeline input)' }
                $issues = @{}
                foreach ($list in @('warnings', 'rejections')) {
                    $issues[$list] = @(foreach ($r in (ConvertTo-BmsArray $f.$list)) {
                            [pscustomobject][ordered]@{
                                PSTypeName = 'Bms2Intune.ImportIssue'
                                File       = $filePath
                                Sheet      = $f.sheet
                                Row        = $r.row
                                Column     = $r.column
                                Value      = $r.value
                                Code       = $r.code
                                Message    = $r.message
                            }
                        })
                }
                [pscustomobject][ordered]@{
                    PSTypeName = 'Bms2Intune.ImportFile'
                    Path       = $filePath
                    Sheet      = $f.sheet
                    Kind       = $f.kind
                    RowsRead   = $f.rows_read
                    Kept       = $f.kept
                    Rejected   = $f.rejected
                    Warnings   = $issues['warnings']
                    Rejections = $issues['rejections']
                }
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        } finally {
            if ($temp -and (Test-Path -LiteralPath $temp)) { Remove-Item -LiteralPath $temp -Force }
        }
    }
}
